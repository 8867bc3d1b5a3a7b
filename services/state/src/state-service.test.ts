import { createServiceClient, StateService as StateServiceDesc } from "@espmesh/proto";
import { createServiceBackend, type StateBackend } from "@espmesh/state-client";
import { MeshError } from "@espmesh/telemetry";
import { type RedisServer, startRedis } from "@espmesh/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stateRedisOptions } from "./options.js";
import { createStateService, type StateService } from "./state-service.js";

describe("state service", () => {
  let redis: RedisServer;
  let raw: Redis;
  let service: StateService;
  const opened: StateBackend[] = [];

  const backend = (project: string, deployment: string, address = service.address) => {
    const state = createServiceBackend({ project, deployment, address, retryTimeoutMs: 1000 });
    opened.push(state);
    return state;
  };

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    service = createStateService({ redisUrl: redis.url, maxCommitBytes: 1024 });
    await service.start();
  });
  afterAll(async () => {
    await Promise.all(opened.map((state) => state.close()));
    await service?.stop();
    raw?.disconnect();
    await redis?.stop();
  });

  it("stores a deployment under the documented keys, one hash tag per deployment", async () => {
    const state = backend("trades/eu", "prod");
    await state.acquire([7], "w1", 3);
    await state.commit({
      owner: "w1",
      epoch: 3,
      shards: [{ shard: 7, windows: { totals: Uint8Array.of(1, 2, 3) }, watermarks: { gw: 42 } }],
    });
    const tag = "espmesh:state:{trades%2Feu/prod}";
    expect((await raw.keys(`${tag}*`)).sort()).toEqual(
      [":deployment", ":owners", ":shard:7"].map((suffix) => `${tag}${suffix}`),
    );
    expect(await raw.hgetall(`${tag}:owners`)).toEqual({ 7: "3:w1" });
    expect([...((await raw.hgetBuffer(`${tag}:shard:7`, "w:totals")) ?? [])]).toEqual([1, 2, 3]);
    expect(await raw.hget(`${tag}:shard:7`, "m:gw")).toBe("42");
    await state.dropDeployment();
    expect(await raw.keys(`${tag}*`)).toEqual([]);
  });

  it("puts every key under a configured prefix and uses an injected client without closing it", async () => {
    const client = new Redis(redis.url, stateRedisOptions());
    const custom = createStateService({ redis: client, keyPrefix: "tenant-a:" });
    await custom.start();
    try {
      const state = backend("p", "d", custom.address);
      await state.acquire([1], "w", 1);
      expect(await raw.hget("tenant-a:{p/d}:owners", "1")).toBe("1:w");
    } finally {
      await custom.stop();
    }
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });

  it("commits, loads and drops thousands of shards and windows in one call", async () => {
    const big = createStateService({ redisUrl: redis.url });
    await big.start();
    try {
      const state = backend("p", "wide", big.address);
      const shards = Array.from({ length: 2500 }, (_, i) => i);
      await state.acquire(shards, "w", 1);
      const windows = Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`win${i}`, Uint8Array.of(i % 256)]));
      const sources = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`src${i}`, i]));
      await state.commit({
        owner: "w",
        epoch: 1,
        shards: [
          { shard: 0, windows, watermarks: sources },
          ...shards.slice(1).map((shard) => ({ shard, windows: { a: Uint8Array.of(1) }, watermarks: { s: shard } })),
        ],
      });
      await state.commit({
        owner: "w",
        epoch: 1,
        shards: [
          { shard: 0, deletedWindows: Object.keys(windows).slice(0, 650), watermarks: { src5: 1, src1100: 5000 } },
        ],
      });
      const loaded = await state.load(shards);
      expect(loaded).toHaveLength(2500);
      expect(loaded[0]?.windows.size).toBe(50);
      expect(loaded[0]?.watermarks.size).toBe(1200);
      expect(loaded[0]?.watermarks.get("src5")).toBe(5);
      expect(loaded[0]?.watermarks.get("src1100")).toBe(5000);
      expect(loaded[2499]?.watermarks.get("s")).toBe(2499);
      await state.acquire(shards, "w2", 2);
      await expect(
        state.commit({ owner: "w", epoch: 1, shards: [{ shard: 2400, windows: { a: Uint8Array.of(9) } }] }),
      ).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
      await state.dropDeployment();
      expect(await raw.keys("espmesh:state:{p/wide}*")).toEqual([]);
    } finally {
      await big.stop();
    }
  });

  it("rejects a commit larger than the gRPC message limit with RESOURCE_EXHAUSTED", async () => {
    const state = backend("p", "huge");
    await state.acquire([1], "w", 1);
    const error = await state
      .commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { big: new Uint8Array(10 * 1024 * 1024) } }] })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe("RESOURCE_EXHAUSTED");
    expect((await state.load([1]))[0]?.windows.size).toBe(0);
  });

  it("validates what arrives on the wire, not only what its own client sends", async () => {
    const client = createServiceClient(StateServiceDesc, service.address);
    try {
      await expect(client.load({ project: "", deployment: "d", shards: [1] })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
      await expect(
        client.acquire({ project: "p", deployment: "d", shards: [1], owner: "w", epoch: 2n ** 60n }),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(
        client.commit({
          project: "p",
          deployment: "huge",
          owner: "w",
          epoch: 1n,
          shards: [{ shard: 1 }, { shard: 1 }],
        }),
      ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    } finally {
      client.close();
    }
  });

  it("moves through its lifecycle once and rejects a second start", async () => {
    const other = createStateService({ redisUrl: redis.url });
    expect(other.status).toBe("idle");
    const { port } = await other.start();
    expect(other.status).toBe("running");
    expect(other.address).toBe(`127.0.0.1:${port}`);
    await expect(other.start()).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
    await other.stop();
    await other.stop();
    expect(other.status).toBe("stopped");
  });

  it("rejects conflicting and invalid options naming them", () => {
    expect(() => createStateService({ redisUrl: redis.url, redis: raw })).toThrow(/redisUrl and redis/);
    expect(() => createStateService({ keyPrefix: "a{b}" })).toThrow(/keyPrefix/);
    expect(() => createStateService({ maxCommitBytes: -1 })).toThrow(/maxCommitBytes/);
  });
});
