import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createServiceBackend } from "@espmesh/state-client";
import { freePort, startRedis } from "@espmesh/testing";
import { describe, expect, it } from "vitest";

describe("state service process", () => {
  it("serves on ESPMESH_STATE_ADDRESS over ESPMESH_REDIS_URL and exits 0 on SIGTERM", async () => {
    const redis = await startRedis();
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./main.ts", import.meta.url))], {
      env: {
        ...process.env,
        ESPMESH_STATE_ADDRESS: `127.0.0.1:${port}`,
        ESPMESH_REDIS_URL: redis.url,
        ESPMESH_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = once(child, "exit");
    const state = createServiceBackend({
      project: "p",
      deployment: "main",
      address: `127.0.0.1:${port}`,
      retryTimeoutMs: 20_000,
    });
    try {
      const [checkpoint] = await state.acquire([3], "w", 1);
      expect(checkpoint).toMatchObject({ shard: 3, epoch: 1, owner: "w" });
    } finally {
      await state.close();
      child.kill("SIGTERM");
      const [code] = await exited;
      await redis.stop();
      expect(code).toBe(0);
    }
  });
});
