import { setTimeout as sleep } from "node:timers/promises";
import { batchToEvents } from "@espmesh/events";
import { startTelemetry } from "@espmesh/telemetry";
import { type NatsServer, startNats, waitFor } from "@espmesh/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "./bus.js";
import { createInputBinding, type InputBinding } from "./input-binding.js";
import type { InputBindingOptions } from "./input-options.js";
import { createOutputBinding } from "./output-binding.js";
import { idsOf, publishRaw, take, tradeSchema, trades } from "./test-helpers.js";

describe("createInputBinding", () => {
  let nats: NatsServer;
  let bus: Bus;
  const open: InputBinding[] = [];
  let streams = 0;

  beforeAll(async () => {
    nats = await startNats();
    bus = await createBus({ servers: nats.url });
  });
  afterAll(async () => {
    await Promise.all(open.map((binding) => binding.close()));
    await bus?.close();
    await nats?.stop();
  });

  /** A fresh stream `IN<n>` on subjects `in<n>.>`, with its subject prefix. */
  async function freshStream(): Promise<{ stream: string; prefix: string }> {
    streams += 1;
    const stream = `IN${streams}`;
    await bus.ensureStream({ name: stream, subjects: [`in${streams}.>`] });
    return { stream, prefix: `in${streams}` };
  }

  function bind(options: Partial<InputBindingOptions> & { stream: string }): InputBinding {
    const binding = createInputBinding(bus, {
      durable: "stage2",
      schema: tradeSchema,
      window: "trades",
      fetchExpiresMs: 1000,
      ...options,
    });
    open.push(binding);
    return binding;
  }

  it("yields columnar and JSON messages as batches whose origins are the stream sequences", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.cost`, window: "cost" });
    await output.publish(trades(1, 2), "c-1");
    await publishRaw(
      bus.connection,
      `${prefix}.json`,
      JSON.stringify({ id: 3, symbol: "J", price: 3.5 }),
      "application/json",
    );
    await publishRaw(
      bus.connection,
      `${prefix}.json`,
      JSON.stringify([
        { id: 4, symbol: "K", price: 4, _opcode: "upsert" },
        { id: 4, _opcode: "delete" },
      ]),
    );
    const binding = bind({ stream });
    const messages = await take(binding[Symbol.asyncIterator](), 3);
    expect(messages.map((message) => message.origin)).toEqual(
      [1, 2, 3].map((seq) => ({ sourceId: `js:${stream}:stage2`, seq })),
    );
    expect(binding.sourceId).toBe(`js:${stream}:stage2`);
    expect(batchToEvents(messages[0]!.batch)).toEqual(batchToEvents(trades(1, 2)));
    expect(batchToEvents(messages[1]!.batch)).toEqual([
      { opcode: "insert", fields: { id: 3, symbol: "J", price: 3.5 } },
    ]);
    expect(batchToEvents(messages[2]!.batch)).toEqual([
      { opcode: "upsert", fields: { id: 4, symbol: "K", price: 4 } },
      { opcode: "delete", fields: { id: 4, symbol: null, price: null } },
    ]);
    expect(messages.every((message) => !message.redelivered)).toBe(true);
    for (const message of messages) message.ack();
  });

  it("terminates a bad message without blocking the ones after it", async () => {
    const { stream, prefix } = await freshStream();
    await publishRaw(bus.connection, `${prefix}.x`, JSON.stringify({ id: 1, symbol: "A", price: 1 }));
    await publishRaw(bus.connection, `${prefix}.x`, "{oops");
    await publishRaw(bus.connection, `${prefix}.x`, JSON.stringify({ id: "not a number" }));
    await publishRaw(bus.connection, `${prefix}.x`, "1,2,3", "text/csv");
    await publishRaw(bus.connection, `${prefix}.x`, JSON.stringify({ id: 5, symbol: "E", price: 5 }));
    const binding = bind({ stream });
    const messages = await take(binding[Symbol.asyncIterator](), 2);
    expect(messages.map((message) => message.origin.seq)).toEqual([1, 5]);
    expect(messages.map((message) => idsOf(message.batch))).toEqual([[1], [5]]);
    for (const message of messages) message.ack();
    await waitFor(async () => (await binding.lag()).ackPending === 0, { message: "every message settled" });
    expect(await binding.lag()).toEqual({ pending: 0, ackPending: 0 });
  });

  it("delivers nothing again after an ack: a new binding on the durable starts after the acked messages", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
    for (let i = 1; i <= 3; i++) await output.publish(trades(i), `a-${i}`);
    const first = bind({ stream });
    const messages = await take(first[Symbol.asyncIterator](), 3);
    for (const message of messages) message.ack();
    await waitFor(async () => (await first.lag()).ackPending === 0, { message: "acks to arrive" });
    await first.close();

    await output.publish(trades(4), "a-4");
    const second = bind({ stream });
    const [next] = await take(second[Symbol.asyncIterator](), 1);
    expect(next?.origin.seq).toBe(4);
    expect(next?.redelivered).toBe(false);
    next?.ack();
  });

  it("hands unacked messages to the next binding on the durable again, first and in order", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
    for (let i = 1; i <= 4; i++) await output.publish(trades(i), `u-${i}`);
    const first = bind({ stream, ackWaitMs: 60_000 });
    const firstMessages = await take(first[Symbol.asyncIterator](), 4);
    firstMessages[0]?.ack();
    firstMessages[2]?.ack();
    await waitFor(async () => (await first.lag()).ackPending === 2, { message: "two acks to arrive" });
    await first.close();
    await output.publish(trades(5), "u-5");

    const second = bind({ stream, ackWaitMs: 60_000 });
    const again = await take(second[Symbol.asyncIterator](), 4);
    // Rewound to the ack floor (after seq 1): 3 comes again too (acked above the floor), flagged so.
    expect(again.map((message) => message.origin.seq)).toEqual([2, 3, 4, 5]);
    expect(again.map((message) => message.redelivered)).toEqual([true, true, true, false]);
    for (const message of again) message.ack();
  });

  it("keeps a held message from being redelivered or handed out twice, however long the reader holds it", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
    for (let i = 1; i <= 2; i++) await output.publish(trades(i), `h-${i}`);
    const binding = bind({ stream, ackWaitMs: 300 });
    const iterator = binding[Symbol.asyncIterator]();
    const held = await take(iterator, 2);
    await sleep(1200); // four ack waits: the keep-alive must stop JetStream from redelivering
    const manager = await jetstreamManager(bus.connection);
    expect((await manager.consumers.info(stream, "stage2")).num_redelivered).toBe(0);
    await output.publish(trades(3), "h-3");
    const [next] = await take(iterator, 1);
    expect(next?.origin.seq).toBe(3);
    for (const message of [...held, next]) message?.ack();
    await waitFor(async () => (await binding.lag()).ackPending === 0, { message: "acks to arrive" });
  });

  it("hands a nak'ed message out again, flagged redelivered", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
    await output.publish(trades(1), "n-1");
    const binding = bind({ stream });
    const iterator = binding[Symbol.asyncIterator]();
    const [first] = await take(iterator, 1);
    first?.nak(50);
    const [again] = await take(iterator, 1);
    expect(again?.origin.seq).toBe(1);
    expect(again?.redelivered).toBe(true);
    again?.ack();
  });

  it("recovers a delivery lost in transit and keeps stream order", async () => {
    const { stream, prefix } = await freshStream();
    const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
    for (let i = 1; i <= 3; i++) await output.publish(trades(i), `g-${i}`);
    const binding = bind({ stream, batchSize: 1 });
    const iterator = binding[Symbol.asyncIterator]();
    const [first] = await take(iterator, 1);
    // Another pull on the durable takes message 2 and never acks it: for this binding, a delivery lost in transit.
    const thief = await jetstream(bus.connection).consumers.get(stream, "stage2");
    const stolen = await thief.next({ expires: 2000 });
    expect(stolen?.info.streamSequence).toBe(2);
    const rest = await take(iterator, 2);
    expect([first, ...rest].map((message) => message?.origin.seq)).toEqual([1, 2, 3]);
    for (const message of [first, ...rest]) message?.ack();
    await waitFor(async () => (await binding.lag()).ackPending === 0, { message: "acks to arrive" });
  });

  it("reads only the filter subject when one is given", async () => {
    const { stream, prefix } = await freshStream();
    await publishRaw(bus.connection, `${prefix}.a`, JSON.stringify({ id: 1 }));
    await publishRaw(bus.connection, `${prefix}.b`, JSON.stringify({ id: 2 }));
    await publishRaw(bus.connection, `${prefix}.a`, JSON.stringify({ id: 3 }));
    const binding = bind({ stream, subject: `${prefix}.a`, durable: "only-a" });
    const messages = await take(binding[Symbol.asyncIterator](), 2);
    expect(messages.map((message) => message.origin.seq)).toEqual([1, 3]);
    for (const message of messages) message.ack();
  });

  it("reports the backlog through lag() and the espmesh_bus_consumer_lag gauge", async () => {
    const telemetry = await startTelemetry({ serviceName: "bus-test" });
    try {
      const { stream, prefix } = await freshStream();
      const output = createOutputBinding(bus, { subject: `${prefix}.t`, window: "w" });
      for (let i = 1; i <= 5; i++) await output.publish(trades(i), `l-${i}`);
      const binding = bind({ stream, batchSize: 1, durable: "lagging" });
      await expect(binding.lag()).rejects.toMatchObject({ code: "NOT_FOUND" });
      const taken = await take(binding[Symbol.asyncIterator](), 2);
      expect(await binding.lag()).toEqual({ pending: 3, ackPending: 2 });
      const text = await telemetry.metricsText();
      const line = text.split("\n").find((row) => row.includes('durable="lagging"'));
      expect(line).toMatch(new RegExp(`^espmesh_bus_consumer_lag\\{.*stream="${stream}".*\\} 5$`));
      for (const message of taken) message.ack();
      await waitFor(async () => (await binding.lag()).ackPending === 0, { message: "acks to arrive" });
      expect(await binding.lag()).toEqual({ pending: 3, ackPending: 0 });
    } finally {
      await telemetry.shutdown();
    }
  });

  it("ends the iteration on close and can be iterated only once", async () => {
    const { stream } = await freshStream();
    const binding = bind({ stream });
    const iterator = binding[Symbol.asyncIterator]();
    expect(() => binding[Symbol.asyncIterator]()).toThrow(/only once/);
    const next = iterator.next();
    await sleep(100);
    await binding.close();
    await expect(Promise.race([next, sleep(5000).then(() => "still waiting")])).resolves.toEqual({
      done: true,
      value: undefined,
    });
  });

  it("rejects a missing stream with NOT_FOUND from the iteration", async () => {
    const binding = bind({ stream: "NO_SUCH_STREAM" });
    await expect(binding[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("rejects bad options naming the option", () => {
    expect(() => bind({ stream: "S", durable: "a.b" })).toThrow(/`durable`/);
    expect(() => bind({ stream: "S", batchSize: 0 })).toThrow(/`batchSize`/);
    expect(() => bind({ stream: "S", batchSize: 50, maxAckPending: 10 })).toThrow(/`batchSize`/);
    expect(() => bind({ stream: "S", fetchExpiresMs: 10 })).toThrow(/`fetchExpiresMs`/);
  });
});
