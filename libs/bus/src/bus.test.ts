import { freePort, type NatsServer, startNats } from "@espmesh/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, compileBusOptions, createBus } from "./bus.js";
import { compileStreamOptions } from "./ensure-stream.js";

describe("createBus and ensureStream", () => {
  let nats: NatsServer;
  let bus: Bus;
  beforeAll(async () => {
    nats = await startNats();
    bus = await createBus({ servers: nats.url, name: "bus-test" });
  });
  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it("creates a stream once and leaves it as is when ensured again", async () => {
    await bus.ensureStream({ name: "ORDERS", subjects: ["orders.>"] });
    await bus.ensureStream({ name: "ORDERS", subjects: "orders.>" });
    const manager = await jetstreamManager(bus.connection);
    const info = await manager.streams.info("ORDERS");
    expect(info.config.subjects).toEqual(["orders.>"]);
    expect(info.config.duplicate_window).toBe(120_000 * 1_000_000);
    expect(info.config.storage).toBe("file");
    const names: string[] = [];
    for await (const name of manager.streams.names()) names.push(name);
    expect(names.filter((name) => name === "ORDERS")).toHaveLength(1);
  });

  it("adds missing subjects and raises a shorter duplicate window, never lowering a longer one", async () => {
    await bus.ensureStream({ name: "QUOTES", subjects: ["quotes.a"], duplicateWindowMs: 60_000 });
    await bus.ensureStream({ name: "QUOTES", subjects: ["quotes.b"], duplicateWindowMs: 90_000 });
    await bus.ensureStream({ name: "QUOTES", subjects: ["quotes.a"], duplicateWindowMs: 30_000 });
    const info = await (await jetstreamManager(bus.connection)).streams.info("QUOTES");
    expect(info.config.subjects).toEqual(["quotes.a", "quotes.b"]);
    expect(info.config.duplicate_window).toBe(90_000 * 1_000_000);
  });

  it("survives several processes ensuring the same stream at once", async () => {
    const others = await Promise.all([1, 2, 3].map((i) => createBus({ servers: nats.url, name: `racer-${i}` })));
    try {
      await Promise.all(others.map((other) => other.ensureStream({ name: "RACE", subjects: ["race.>"] })));
      const info = await (await jetstreamManager(bus.connection)).streams.info("RACE");
      expect(info.config.subjects).toEqual(["race.>"]);
    } finally {
      await Promise.all(others.map((other) => other.close()));
    }
  });

  it("rejects a stream whose subjects overlap another stream's with FAILED_PRECONDITION", async () => {
    await expect(bus.ensureStream({ name: "OVERLAP", subjects: ["orders.eu"] })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
  });

  it("rejects bad options naming the option", () => {
    expect(() => compileStreamOptions({ name: "a.b", subjects: ["x"] })).toThrow(/`name`/);
    expect(() => compileStreamOptions({ name: "S", subjects: [] })).toThrow(/`subjects`/);
    expect(() => compileStreamOptions({ name: "S", subjects: ["a..b"] })).toThrow(/`subjects`/);
    expect(() =>
      compileStreamOptions({ name: "S", subjects: ["a"], duplicateWindowMs: 60_000, maxAgeMs: 1000 }),
    ).toThrow(/`maxAgeMs`/);
    expect(() => compileBusOptions({ servers: [] })).toThrow(/`servers`/);
    expect(compileBusOptions({ servers: "nats://127.0.0.1:4222" })).toMatchObject({
      maxReconnectAttempts: -1,
      name: "espmesh",
    });
  });

  it("fails with UNAVAILABLE when no server answers", async () => {
    const port = await freePort();
    await expect(createBus({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 500 })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });

  it("refuses to ensure streams after close", async () => {
    const closing = await createBus({ servers: nats.url });
    await closing.close();
    await closing.close();
    expect(closing.connection.isClosed()).toBe(true);
    await expect(closing.ensureStream({ name: "LATE", subjects: ["late"] })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
  });
});
