import { type Bus, createBus, createOutputBinding, outputMessageId } from "@espmesh/bus";
import { rowsToBatch } from "@espmesh/events";
import { type NatsServer, startNats, waitFor } from "@espmesh/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBalancer } from "../balancer.js";
import { type Mesh, startMesh, tradeRows, tradeSchema } from "./harness.js";

let nats: NatsServer;
let bus: Bus | undefined;
let mesh: Mesh | undefined;

beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats.stop();
});
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
  await bus?.close();
  bus = undefined;
});

/** A mesh whose `trades` source also reads the durable `balancer` on stream `stream`. */
async function startBoundMesh(stream: string, workers: string[], commitIntervalMs = 20): Promise<Mesh> {
  return startMesh({
    workers,
    sources: [{ name: "trades", schema: tradeSchema, input: { stream, subject: `${stream}.in`, durable: "balancer" } }],
    balancer: { natsUrl: nats.url },
    worker: { commitIntervalMs },
  });
}

/** Publishes `batches` batches of 50 trades (ids 0…) to the stream's subject. */
async function publishTrades(stream: string, batches: number, first = 0): Promise<void> {
  bus ??= await createBus({ servers: nats.url });
  const output = createOutputBinding(bus, { subject: `${stream}.in`, window: "trades" });
  for (let i = first; i < first + batches; i++) {
    await output.publish(rowsToBatch(tradeSchema, tradeRows(i * 50, 50)), outputMessageId("test", "trades", 0, i));
  }
}

/** The sum and count of trade ids 0 … n−1. */
function totalOf(n: number): { sum: number; count: number } {
  return { sum: (n * (n - 1)) / 2, count: n };
}

async function caughtUp(m: Mesh): Promise<void> {
  await waitFor(
    async () => {
      const [lag] = await m.balancer.inputLag();
      return lag?.pending === 0 && lag.ackPending === 0;
    },
    { timeoutMs: 20_000, message: "the durable to be consumed and acked" },
  );
}

describe("input bindings", () => {
  it("feeds a source window from a durable consumer, with the stream sequence as origin", async () => {
    mesh = await startBoundMesh("FEED", ["w1", "w2"]);
    await mesh.settled();
    await publishTrades("FEED", 10);
    const m = mesh;
    await waitFor(() => m.store.total().count === 500, { timeoutMs: 20_000 });
    await caughtUp(m);
    expect(m.store.total()).toEqual(totalOf(500));
    const origins = [...m.workers.values()].flatMap((worker) => worker.received.map((batch) => batch.sourceId));
    expect(new Set(origins)).toEqual(new Set(["js:FEED:balancer"]));
    expect(await m.balancer.inputLag()).toEqual([
      { window: "trades", stream: "FEED", durable: "balancer", pending: 0, ackPending: 0 },
    ]);
  });

  it("acks a message only after the workers committed it", async () => {
    mesh = await startBoundMesh("ACKS", ["w1", "w2"]);
    await mesh.settled();
    const m = mesh;
    for (const worker of m.workers.values()) worker.stall(true);
    await publishTrades("ACKS", 4);
    await waitFor(() => [...m.workers.values()].reduce((n, worker) => n + worker.applied, 0) === 200);
    // Applied, not committed: every message is still unacked.
    const [stalled] = await m.balancer.inputLag();
    expect(stalled).toMatchObject({ pending: 0, ackPending: 4 });
    for (const worker of m.workers.values()) worker.stall(false);
    await caughtUp(m);
    expect(m.store.total()).toEqual(totalOf(200));
  });

  it("counts every message once when a worker is lost mid-stream", async () => {
    mesh = await startBoundMesh("LOSS", ["w1", "w2", "w3"], 100);
    await mesh.settled();
    const m = mesh;
    const publishing = publishTrades("LOSS", 40);
    await waitFor(() => (m.workers.get("w2")?.applied ?? 0) > 0);
    m.workers.get("w2")!.kill();
    m.setMembers([{ id: "w1" }, { id: "w3" }]);
    await publishing;
    await caughtUp(m);
    expect(m.store.total()).toEqual(totalOf(2000));
  });

  it("resumes after a drained balancer: the next one reads on from the acked messages", async () => {
    mesh = await startBoundMesh("RESUME", ["w1", "w2"]);
    await mesh.settled();
    const m = mesh;
    await publishTrades("RESUME", 5);
    await waitFor(() => m.store.total().count === 250, { timeoutMs: 20_000 });
    await m.balancer.stop();
    await publishTrades("RESUME", 5, 5);
    const next = createBalancer({
      deployment: {
        project: "trades",
        sources: [
          {
            name: "trades",
            schema: tradeSchema,
            input: { stream: "RESUME", subject: "RESUME.in", durable: "balancer" },
          },
        ],
      },
      membership: m.registry,
      natsUrl: nats.url,
    });
    await next.start();
    try {
      await waitFor(() => m.store.total().count === 500, { timeoutMs: 20_000 });
      await waitFor(async () => (await next.inputLag())[0]?.ackPending === 0, { timeoutMs: 20_000 });
      expect(m.store.total()).toEqual(totalOf(500));
    } finally {
      await next.stop();
    }
  });

  it("refuses a source with an input binding when no NATS URL is given", () => {
    expect(() =>
      createBalancer({
        deployment: {
          project: "p",
          sources: [{ name: "trades", schema: tradeSchema, input: { stream: "S", durable: "d" } }],
        },
        membership: { watch: async function* () {} },
      }),
    ).toThrow(/natsUrl is required/);
  });
});
