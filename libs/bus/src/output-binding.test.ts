import { setTimeout as sleep } from "node:timers/promises";
import { fromBinary } from "@bufbuild/protobuf";
import { batchToEvents, createBatchBuilder, decodeBatch } from "@espmesh/events";
import { BatchSchema } from "@espmesh/proto";
import { type NatsServer, startNats } from "@espmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "./bus.js";
import { BATCH_CONTENT_TYPE } from "./content-type.js";
import { outputMessageId } from "./message-id.js";
import { createOutputBinding } from "./output-binding.js";
import { storedMessages, tradeSchema, trades } from "./test-helpers.js";

describe("createOutputBinding", () => {
  let nats: NatsServer;
  let bus: Bus;
  beforeAll(async () => {
    nats = await startNats();
    bus = await createBus({ servers: nats.url });
    await bus.ensureStream({ name: "OUT", subjects: ["out.>"] });
  });
  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it("publishes a columnar batch with its content type and message id, readable back as the same events", async () => {
    const output = createOutputBinding(bus, { subject: "out.cost", window: "cost" });
    await output.publish(trades(1, 3), outputMessageId("stage1", "cost", 17, 1));
    const [stored] = await storedMessages(bus.connection, "OUT");
    expect(stored?.msgId).toBe("stage1:cost:17:1");
    expect(stored?.contentType).toBe(BATCH_CONTENT_TYPE);
    const message = fromBinary(BatchSchema, stored?.data ?? new Uint8Array());
    expect(message.window).toBe("cost");
    expect(batchToEvents(decodeBatch(message))).toEqual(batchToEvents(trades(1, 3)));
  });

  it("stores a batch published twice with the same id once, the second publish resolving too", async () => {
    await bus.ensureStream({ name: "DEDUP", subjects: ["dedup"] });
    const output = createOutputBinding(bus, { subject: "dedup", window: "w" });
    await output.publish(trades(1), "dup-1");
    await output.publish(trades(1), "dup-1");
    await output.publish(trades(2), "dup-2");
    const stored = await storedMessages(bus.connection, "DEDUP");
    expect(stored.map((message) => message.msgId)).toEqual(["dup-1", "dup-2"]);
  });

  it("stores concurrent publishes in call order", async () => {
    await bus.ensureStream({ name: "ORDERED", subjects: ["ordered"] });
    const output = createOutputBinding(bus, { subject: "ordered", window: "w" });
    await Promise.all(Array.from({ length: 50 }, (_, i) => output.publish(trades(i), `m-${i}`)));
    const stored = await storedMessages(bus.connection, "ORDERED");
    expect(stored.map((message) => message.msgId)).toEqual(Array.from({ length: 50 }, (_, i) => `m-${i}`));
  });

  it("lets the caller reuse the batch's storage as soon as publish returns", async () => {
    await bus.ensureStream({ name: "REUSE", subjects: ["reuse"] });
    const output = createOutputBinding(bus, { subject: "reuse", window: "w" });
    const batch = trades(5);
    const published = output.publish(batch, "reuse-1");
    (batch.columns[0]?.values as Float64Array)[0] = 999;
    await published;
    const [stored] = await storedMessages(bus.connection, "REUSE");
    const events = batchToEvents(decodeBatch(fromBinary(BatchSchema, stored?.data ?? new Uint8Array())));
    expect(events[0]?.fields.id).toBe(5);
  });

  it("keeps retrying while no stream stores the subject, until the caller aborts (CANCELLED)", async () => {
    const output = createOutputBinding(bus, { subject: "nowhere", window: "w", retryDelayMs: 20, maxRetryDelayMs: 50 });
    const abort = new AbortController();
    const published = output.publish(trades(1), "lost-1", { signal: abort.signal });
    setTimeout(() => abort.abort(), 300);
    await expect(published).rejects.toMatchObject({ code: "CANCELLED" });
  });

  it("rejects a message larger than the server accepts with INVALID_ARGUMENT, and later publishes still go out", async () => {
    await bus.ensureStream({ name: "BIG", subjects: ["big"] });
    const output = createOutputBinding(bus, { subject: "big", window: "w" });
    const builder = createBatchBuilder(tradeSchema);
    builder.append({ id: 1, symbol: "x".repeat(2 * 1024 * 1024), price: 1 });
    await expect(output.publish(builder.seal(), "big-1")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await output.publish(trades(2), "big-2");
    expect((await storedMessages(bus.connection, "BIG")).map((message) => message.msgId)).toEqual(["big-2"]);
  });

  it("rejects an empty or multi-line message id", async () => {
    const output = createOutputBinding(bus, { subject: "out.ids", window: "w" });
    await expect(output.publish(trades(1), "")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(output.publish(trades(1), "a\r\nb")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("fails publishes with UNAVAILABLE once the bus is closed", async () => {
    const closing = await createBus({ servers: nats.url });
    const output = createOutputBinding(closing, { subject: "nowhere.either", window: "w", retryDelayMs: 20 });
    const published = output.publish(trades(1), "closed-1");
    const closed = sleep(200).then(() => closing.close());
    await expect(published).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await closed;
    expect(() => createOutputBinding(closing, { subject: "x", window: "w" })).toThrow(/closed/);
  });

  it("rejects a subject with wildcards", () => {
    expect(() => createOutputBinding(bus, { subject: "out.*", window: "w" })).toThrow(/`subject`/);
  });
});

describe("outputMessageId", () => {
  it("joins deployment, window, shard and sequence, escaping the names so ids never collide", () => {
    expect(outputMessageId("stage1", "cost", 3, 42)).toBe("stage1:cost:3:42");
    expect(outputMessageId("a:b", "c", 0, 0)).not.toBe(outputMessageId("a", "b:c", 0, 0));
    expect(outputMessageId("dep loy", "w\n", 1, 2)).toBe("dep%20loy:w%0A:1:2");
  });

  it("rejects empty names and negative or fractional numbers", () => {
    expect(() => outputMessageId("", "w", 0, 1)).toThrow(/deployment/);
    expect(() => outputMessageId("d", "w", -1, 1)).toThrow(/shard/);
    expect(() => outputMessageId("d", "w", 0, 1.5)).toThrow(/seq/);
  });
});
