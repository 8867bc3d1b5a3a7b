import { existsSync } from "node:fs";
import { AckPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NatsServer, startNats } from "./nats-server.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Fetches `count` messages from a durable pull consumer, acking each, within a bounded number of pulls. */
async function consume(connection: NatsConnection, stream: string, durable: string, count: number): Promise<string[]> {
  const consumer = await jetstream(connection).consumers.get(stream, durable);
  const received: string[] = [];
  for (let pull = 0; pull < 20 && received.length < count; pull += 1) {
    const batch = await consumer.fetch({ max_messages: count - received.length, expires: 1000 });
    for await (const message of batch) {
      received.push(decoder.decode(message.data));
      await message.ackAck();
    }
  }
  return received;
}

describe("startNats", () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("publishes and consumes through a real JetStream stream with a durable pull consumer", async () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const connection = await connect({ servers: nats.url });
    try {
      const manager = await jetstreamManager(connection);
      await manager.streams.add({ name: "EVENTS", subjects: ["events.>"], storage: StorageType.File });
      await manager.consumers.add("EVENTS", { durable_name: "workers", ack_policy: AckPolicy.Explicit });
      const client = jetstream(connection);
      for (let i = 1; i <= 5; i += 1) {
        const ack = await client.publish("events.trades", encoder.encode(`event-${i}`), { msgID: `trades-${i}` });
        expect(ack.stream).toBe("EVENTS");
        expect(ack.seq).toBe(i);
      }
      const duplicate = await client.publish("events.trades", encoder.encode("event-5"), { msgID: "trades-5" });
      expect(duplicate.duplicate).toBe(true);

      expect(await consume(connection, "EVENTS", "workers", 3)).toEqual(["event-1", "event-2", "event-3"]);
      const info = await manager.consumers.info("EVENTS", "workers");
      expect(info.num_pending).toBe(2);
    } finally {
      await connection.close();
    }
  });

  it("keeps the stream's messages and the consumer's position across stop and start", async () => {
    const port = nats.port;
    await nats.stop();
    expect(existsSync(nats.storeDir)).toBe(true);
    await nats.start();
    expect(nats.port).toBe(port);

    const connection = await connect({ servers: nats.url });
    try {
      const manager = await jetstreamManager(connection);
      const stream = await manager.streams.info("EVENTS");
      expect(stream.state.messages).toBe(5);
      expect(await consume(connection, "EVENTS", "workers", 2)).toEqual(["event-4", "event-5"]);
      const stored = await manager.streams.getMessage("EVENTS", { seq: 1 });
      expect(decoder.decode(stored?.data)).toBe("event-1");
    } finally {
      await connection.close();
    }
  });

  it("fails with one message naming a missing binary and how to install it", async () => {
    await expect(startNats({ binary: "nats-server-not-installed" })).rejects.toThrow(
      /nats-server-not-installed.*apt-get install redis-server nats-server/,
    );
  });
});
