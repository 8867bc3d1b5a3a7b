import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "./free-port.js";
import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves once a sync or async condition holds", async () => {
    let checks = 0;
    await waitFor(() => ++checks >= 3, { intervalMs: 1 });
    expect(checks).toBe(3);
    let asyncChecks = 0;
    await waitFor(async () => ++asyncChecks >= 2, { intervalMs: 1 });
    expect(asyncChecks).toBe(2);
  });

  it("rejects with DEADLINE_EXCEEDED naming what it waited for", async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: "shard 3 to move" }),
    ).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED", message: expect.stringContaining("shard 3 to move") });
  });

  it("retries a throwing check and reports the last error on timeout", async () => {
    let checks = 0;
    await waitFor(
      () => {
        checks += 1;
        if (checks < 3) throw new Error("not yet");
        return true;
      },
      { intervalMs: 1 },
    );
    expect(checks).toBe(3);
    const failure = waitFor(
      () => {
        throw new Error("connection refused");
      },
      { timeoutMs: 20, intervalMs: 5 },
    );
    await expect(failure).rejects.toThrow(/connection refused/);
    await expect(failure).rejects.toMatchObject({ cause: expect.objectContaining({ message: "connection refused" }) });
  });
});

describe("freePort", () => {
  it("returns a loopback port that can be bound", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
