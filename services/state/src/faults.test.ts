import { createServiceBackend, type StateBackend } from "@espmesh/state-client";
import { freePort, waitFor } from "@espmesh/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createStateService, type StateService } from "./state-service.js";
import { type DurableRedis, startDurableRedis } from "./test-support/durable-redis.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (blob: Uint8Array | undefined) => (blob === undefined ? undefined : new TextDecoder().decode(blob));

describe("state service faults (durable redis: AOF, appendfsync always)", () => {
  let redis: DurableRedis;
  let service: StateService;
  const opened: StateBackend[] = [];
  let counter = 0;

  /** A client on a new deployment, or on the deployment of `sameAs`. */
  const backend = (options: { retryTimeoutMs: number; address?: string; sameAs?: StateBackend }) => {
    counter += 1;
    const state = createServiceBackend({
      project: "faults",
      deployment: options.sameAs?.deployment ?? `d${counter}`,
      address: options.address ?? service.address,
      retryTimeoutMs: options.retryTimeoutMs,
      maxBackoffMs: 200,
    });
    opened.push(state);
    return state;
  };

  beforeAll(async () => {
    redis = await startDurableRedis();
    service = createStateService({ redisUrl: redis.url, redisCommandTimeoutMs: 2000 });
    await service.start();
  });
  afterEach(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await Promise.all(opened.map((state) => state.close()));
    await service?.stop();
    await redis?.stop();
  });

  it("answers UNAVAILABLE while redis is down, writes nothing, and commits again once redis is back", async () => {
    const state = backend({ retryTimeoutMs: 200 });
    await state.acquire([1, 2], "w", 1);
    await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { a: bytes("before") } }] });
    await redis.kill();
    await expect(
      state.commit({
        owner: "w",
        epoch: 1,
        shards: [
          { shard: 1, windows: { a: bytes("during") } },
          { shard: 2, windows: { a: bytes("during") } },
        ],
      }),
    ).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(state.load([1])).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await redis.start();
    const patient = backend({ retryTimeoutMs: 10_000, sameAs: state });
    const [one, two] = await patient.load([1, 2]);
    expect(text(one?.windows.get("a"))).toBe("before");
    expect(two?.windows.size).toBe(0);
    await expect(
      patient.commit({ owner: "w", epoch: 1, shards: [{ shard: 2, windows: { a: bytes("after") } }] }),
    ).resolves.toEqual({ shards: 1, bytes: 5 });
  });

  it("loses no acknowledged commit when redis crashes and restarts mid-stream", async () => {
    const state = backend({ retryTimeoutMs: 15_000 });
    const shards = [0, 1, 2, 3, 4, 5, 6, 7];
    await state.acquire(shards, "w", 1);
    const rounds = 60;
    let acknowledged = 0;
    const writer = (async () => {
      for (let round = 1; round <= rounds; round++) {
        await state.commit({
          owner: "w",
          epoch: 1,
          shards: shards.map((shard) => ({
            shard,
            windows: { w: bytes(`${shard}:${round}`) },
            watermarks: { src: round },
          })),
        });
        acknowledged = round;
      }
    })();
    await waitFor(() => acknowledged >= 10, { timeoutMs: 15_000, message: "10 acknowledged commits" });
    await redis.kill();
    const atCrash = acknowledged;
    const checker = backend({ retryTimeoutMs: 15_000, sameAs: state });
    await redis.start();
    const survivors = await checker.load(shards);
    for (const checkpoint of survivors) {
      expect(checkpoint.watermarks.get("src") ?? 0).toBeGreaterThanOrEqual(atCrash);
    }
    await writer;
    expect(acknowledged).toBe(rounds);
    for (const checkpoint of await state.load(shards)) {
      expect(text(checkpoint.windows.get("w"))).toBe(`${checkpoint.shard}:${rounds}`);
      expect(checkpoint.watermarks.get("src")).toBe(rounds);
    }
  });

  it("lets a client reconnect by itself when the state service restarts on the same address", async () => {
    const port = await freePort();
    const first = createStateService({ redisUrl: redis.url, address: `127.0.0.1:${port}` });
    await first.start();
    const state = backend({ retryTimeoutMs: 15_000, address: first.address });
    await state.acquire([1], "w", 1);
    await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { a: bytes("one") } }] });
    await first.stop();
    const second = createStateService({ redisUrl: redis.url, address: `127.0.0.1:${port}` });
    const commit = state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { a: bytes("two") } }] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await second.start();
    try {
      await expect(commit).resolves.toEqual({ shards: 1, bytes: 3 });
      const [checkpoint] = await state.load([1]);
      expect(text(checkpoint?.windows.get("a"))).toBe("two");
    } finally {
      await second.stop();
    }
  });
});
