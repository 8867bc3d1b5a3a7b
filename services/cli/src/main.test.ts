import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "espmesh.mjs");

describe("espmesh", () => {
  it("explains the run command with --help", async () => {
    let out = "";
    const code = await main(["node", "espmesh", "run", "--help"], { out: (t) => (out += t), err: (t) => (out += t) });
    expect(code).toBe(0);
    expect(out).toMatch(/--input <window=file>/);
    expect(out).toMatch(/--order-by <field>/);
    expect(out).toMatch(/"window":"W","opcode":"insert"/);
  });

  it("exits with 2 on a usage error", async () => {
    let err = "";
    const code = await main(["node", "espmesh", "run"], { out: () => {}, err: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toMatch(/missing required argument 'project'/);
  });

  it("runs as a command through its bin script", () => {
    const result = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", timeout: 20_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/run \[options\] <project>/);
  });
});
