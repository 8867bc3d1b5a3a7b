import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type ConformanceCase, runCase } from "./testing/conformance.js";

const casesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "test-cases");
const files = readdirSync(casesDir)
  .filter((file) => file.endsWith(".yaml"))
  .sort();

const total = files.reduce(
  (sum, file) => sum + (parse(readFileSync(join(casesDir, file), "utf8")) as unknown[]).length,
  0,
);

describe("conformance suite", () => {
  it("has at least 40 cases", () => {
    expect(total).toBeGreaterThanOrEqual(40);
  });
  for (const file of files) {
    const cases = parse(readFileSync(join(casesDir, file), "utf8")) as ConformanceCase[];
    describe(file, () => {
      for (const testCase of cases) {
        it(testCase.name, () => {
          expect(runCase(testCase)).toBeUndefined();
        });
      }
    });
  }
});
