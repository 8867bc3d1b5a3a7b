import { setTimeout as sleep } from "node:timers/promises";
import { type NatsServer, startNats, waitFor } from "@espmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "./bus.js";
import { createInputBinding, type InputMessage } from "./input-binding.js";
import { createOutputBinding } from "./output-binding.js";
import { idsOf, storedMessages, take, tradeSchema, trades } from "./test-helpers.js";

const TOTAL = 200;
const RESTART_AT = 60;

describe("a NATS restart in the middle of a cascade", () => {
  let nats: NatsServer;
  let producer: Bus;
  let consumer: Bus;
  beforeAll(async () => {
    nats = await startNats();
    producer = await createBus({ servers: nats.url, name: "producer", reconnectTimeWaitMs: 100 });
    consumer = await createBus({ servers: nats.url, name: "consumer", reconnectTimeWaitMs: 100 });
    await producer.ensureStream({ name: "CASCADE", subjects: ["cascade.>"] });
  });
  afterAll(async () => {
    await consumer?.close();
    await producer?.close();
    await nats?.stop();
  });

  it("loses and duplicates nothing: the stream holds every batch once, and the input resumes in order", async () => {
    const output = createOutputBinding(producer, {
      subject: "cascade.cost",
      window: "cost",
      publishTimeoutMs: 1000,
      retryDelayMs: 50,
      maxRetryDelayMs: 500,
    });
    const input = createInputBinding(consumer, {
      stream: "CASCADE",
      durable: "stage2",
      schema: tradeSchema,
      window: "trades",
      batchSize: 10,
      fetchExpiresMs: 1000,
      retryDelayMs: 50,
      maxRetryDelayMs: 500,
    });
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        await output.publish(trades(i), `cost-${i}`);
        published = i + 1;
      }
    })();
    const received: InputMessage[] = [];
    const reading = (async () => {
      const iterator = input[Symbol.asyncIterator]();
      while (received.length < TOTAL) {
        const [message] = await take(iterator, 1, 60_000);
        if (message === undefined) continue;
        received.push(message);
        message.ack();
      }
    })();

    await waitFor(() => published >= RESTART_AT, { timeoutMs: 20_000, message: `${RESTART_AT} publishes` });
    await nats.stop();
    await sleep(1000);
    await nats.start();
    await Promise.all([publishing, reading]);

    // Right after a restart a JetStream API request can time out once; reading the stream is retried.
    let stored: Awaited<ReturnType<typeof storedMessages>> = [];
    await waitFor(
      async () => {
        stored = await storedMessages(producer.connection, "CASCADE");
        return true;
      },
      { timeoutMs: 30_000, message: "the stream's messages to be readable" },
    );
    expect(stored.map((message) => message.msgId)).toEqual(Array.from({ length: TOTAL }, (_, i) => `cost-${i}`));
    expect(received.map((message) => message.origin.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(received.flatMap((message) => idsOf(message.batch))).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    await waitFor(async () => (await input.lag()).ackPending === 0, {
      timeoutMs: 20_000,
      message: "every ack to arrive",
    });
    expect(await input.lag()).toEqual({ pending: 0, ackPending: 0 });
    await input.close();
  });
});
