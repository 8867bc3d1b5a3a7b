import { defineConfig } from "vitest/config";

// One vitest run covers every package: unit tests beside the code (`src/**/*.test.ts`) and the
// cross-service suites under test/ (e2e, chaos, deploy: the Helm chart). Benchmarks under test/bench are programs, not tests.
export default defineConfig({
  test: {
    include: [
      "libs/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "test/e2e/**/*.test.ts",
      "test/chaos/**/*.test.ts",
      "test/deploy/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
