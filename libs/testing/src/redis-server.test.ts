import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "./redis-server.js";

function client(server: RedisServer): Redis {
  return new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
}

describe("startRedis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("serves a real Redis on a loopback URL that reads back what was written", async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const connection = client(redis);
    try {
      await connection.connect();
      await connection.set("greeting", "hello");
      await connection.hset("shard:7", { window: "counts", epoch: "3" });
      await connection.incrby("seq", 41);
      expect(await connection.get("greeting")).toBe("hello");
      expect(await connection.hgetall("shard:7")).toEqual({ window: "counts", epoch: "3" });
      expect(await connection.incr("seq")).toBe(42);
    } finally {
      connection.disconnect();
    }
  });

  it("starts again on the same port, empty, after a stop", async () => {
    const before = client(redis);
    try {
      await before.connect();
      await before.set("lost", "yes");
    } finally {
      before.disconnect();
    }
    const port = redis.port;
    await redis.stop();
    await redis.stop();
    const refused = client(redis);
    refused.on("error", () => undefined);
    await expect(refused.connect()).rejects.toThrow();
    refused.disconnect();

    await redis.start();
    expect(redis.port).toBe(port);
    const after = client(redis);
    try {
      await after.connect();
      expect(await after.get("lost")).toBeNull();
      await after.set("kept", "now");
      expect(await after.get("kept")).toBe("now");
    } finally {
      after.disconnect();
    }
  });

  it("fails with one message naming a missing binary and how to install it", async () => {
    const attempt = startRedis({ binary: "redis-server-not-installed" });
    await expect(attempt).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
    await expect(attempt).rejects.toThrow(/redis-server-not-installed.*apt-get install redis-server nats-server/);
  });

  it("reports a server that cannot start with its output", async () => {
    await expect(startRedis({ port: redis.port })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/redis-server exited[\s\S]*already in use/i),
    });
  });
});
