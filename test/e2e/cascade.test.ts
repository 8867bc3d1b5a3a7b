/**
 * Cascades over NATS JetStream (DESIGN §9), end to end with real NATS and Redis: stage 1 (trades →
 * large trades → cost) publishes `cost` to a subject; stage 2 reads it through a durable consumer
 * with 3 workers, aggregates by symbol and raises pattern alerts, published to another subject.
 * Whatever fails mid-stream — a worker of each stage killed with SIGKILL, or NATS restarted —
 * stage 2's table and its alerts must equal both stages run in one process: nothing lost,
 * nothing counted twice.
 */
import { createBus, createInputBinding } from "@espmesh/bus";
import { createClient } from "@espmesh/client";
import { type Batch, batchToRows, parseSchemaString } from "@espmesh/events";
import { type NatsServer, type RedisServer, startNats, startRedis, waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  ALERT_SCHEMA,
  alertKeys,
  type Cascade,
  COST_SCHEMA,
  referenceRun,
  sortBySymbol,
  startCascade,
  TRADES_SCHEMA,
  trades,
} from "../support/cascade.js";
import type { LocalMesh, WorkerProcess } from "../support/local-mesh.js";

const EVENTS = 36_000;
const BATCH = 1000;

let nats: NatsServer | undefined;
let redis: RedisServer | undefined;
let cascade: Cascade | undefined;

afterEach(async () => {
  await cascade?.stop();
  cascade = undefined;
  await nats?.stop();
  nats = undefined;
  await redis?.stop();
  redis = undefined;
});

/** Publishes the trades into stage 1 in batches, calling `after` once a batch starting at `start` was handed over. */
async function publishTrades(running: Cascade, after: (start: number) => Promise<void> | void): Promise<void> {
  const address = running.stage1.balancerAddress;
  const client = createClient({ address, balancerAddress: address });
  try {
    const publisher = client.publisher("stage1", "trades", {
      schema: parseSchemaString(TRADES_SCHEMA),
      maxRows: BATCH,
      // Few batches in flight: once `publish` returns for batch k, batch k - 4 was acked.
      maxUnacked: 4,
    });
    for (let start = 1; start <= EVENTS; start += BATCH) {
      await publisher.publish(trades(start, Math.min(EVENTS, start + BATCH - 1)));
      await after(start);
    }
    // Resolves once stage 1 acked every batch: its outputs are stored in the COST stream.
    await publisher.close();
  } finally {
    client.close();
  }
}

/**
 * Kills a worker with SIGKILL once `ready()` and it was sent at least `events` it has not
 * committed, `afterMs` later (time to apply them and publish their outputs, within its
 * checkpoint interval): its successor replays them.
 */
async function killWhenBusy(
  stage: LocalMesh,
  victim: WorkerProcess,
  events: number,
  afterMs: number,
  ready: () => boolean,
): Promise<void> {
  const inflight = () => stage.balancer.stats().workers.find((link) => link.id === victim.id)?.inflightEvents ?? 0;
  await waitFor(() => ready() && inflight() >= events, {
    timeoutMs: 60_000,
    intervalMs: 2,
    message: `worker ${victim.id} to hold ${events} uncommitted events`,
  });
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  victim.kill("SIGKILL");
}

/** Waits until stage 2 committed and acked every message of its durable. */
async function stage2Caught(running: Cascade): Promise<void> {
  await waitFor(
    async () => {
      const [lag] = await running.stage2.balancer.inputLag();
      return lag?.pending === 0 && lag.ackPending === 0 && running.stage2.balancer.stats().outstanding === 0;
    },
    { timeoutMs: 60_000, intervalMs: 200, message: "stage 2 to consume the whole COST stream" },
  );
}

async function stage2Table(running: Cascade): Promise<unknown[]> {
  const address = running.stage2.balancerAddress;
  const client = createClient({ address, balancerAddress: address });
  try {
    return sortBySymbol(await client.query("stage2", "bySymbol"));
  } finally {
    client.close();
  }
}

/** Every batch stored in a stream, read through a durable of its own. */
async function storedBatches(server: NatsServer, stream: string, schema: string): Promise<Batch[]> {
  const bus = await createBus({ servers: server.url });
  try {
    const binding = createInputBinding(bus, {
      stream,
      durable: "verify",
      schema: parseSchemaString(schema),
      window: stream,
    });
    const batches: Batch[] = [];
    const reading = (async () => {
      for await (const message of binding) {
        batches.push(message.batch);
        message.ack();
      }
    })();
    await waitFor(
      async () => {
        const lag = await binding.lag();
        return lag.pending === 0 && lag.ackPending === 0;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: `the ${stream} stream to be read` },
    );
    await binding.close();
    await reading;
    return batches;
  } finally {
    await bus.close();
  }
}

/** What the streams hold: the ids of the cost events (sorted) and the alerts. */
async function streamContents(server: NatsServer): Promise<{ costIds: number[]; alerts: string[] }> {
  const cost = await storedBatches(server, "COST", COST_SCHEMA);
  const costIds = cost.flatMap((batch) => batchToRows(batch).map((row) => Number(row.id)));
  const alerts = (await storedBatches(server, "ALERTS", ALERT_SCHEMA)).flatMap(alertKeys);
  return { costIds: costIds.sort((a, b) => a - b), alerts: alerts.sort() };
}

describe("cascade over JetStream", () => {
  it("a worker of each stage killed with -9 mid-stream changes nothing in stage 2's table and alerts", async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    // Stage 1 checkpoints rarely: its victim dies with many outputs stored and not committed.
    cascade = await startCascade({ nats, redis, stage1Workers: 3, stage2Workers: 3, stage1CheckpointIntervalMs: 400 });
    const running = cascade;
    const stage1Victim = running.stage1.workers[0]!;
    const stage2Victim = running.stage2.workers[0]!;
    let published = 0;
    // Each victim dies mid-stream holding batches it applied (and published outputs of) but has not
    // committed: its successor replays them and publishes the same outputs again.
    const killing = Promise.all([
      killWhenBusy(running.stage1, stage1Victim, 600, 150, () => published >= 12_000),
      killWhenBusy(running.stage2, stage2Victim, 50, 20, () => published >= 20_000),
    ]);
    // Awaited below; marked handled now so that a failure while publishing is the one reported.
    killing.catch(() => undefined);
    await publishTrades(running, (start) => {
      published = start + BATCH - 1;
    });
    await killing;
    expect(await stage1Victim.exited).toBe("SIGKILL");
    expect(await stage2Victim.exited).toBe("SIGKILL");
    await stage2Caught(running);

    const expected = referenceRun(EVENTS, BATCH);
    expect(expected.bySymbol.length).toBe(100);
    expect(expected.alerts.length).toBeGreaterThan(0);
    expect(await stage2Table(running)).toEqual(expected.bySymbol);
    const stored = await streamContents(nats);
    expect(stored.costIds).toEqual(expected.costIds);
    expect(stored.alerts).toEqual(expected.alerts);
  }, 150_000);

  it("NATS restarted mid-stream loses nothing and counts nothing twice", async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const server = nats;
    cascade = await startCascade({ nats: server, redis, stage1Workers: 2, stage2Workers: 3 });
    const running = cascade;
    let restart: Promise<void> | undefined;
    await publishTrades(running, (start) => {
      if (start !== 12_001) return;
      // Publishing goes on (and stalls on stage 1's commits) while NATS is away.
      restart = (async () => {
        await server.stop();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await server.start();
      })();
    });
    await restart;
    await stage2Caught(running);

    const expected = referenceRun(EVENTS, BATCH);
    expect(await stage2Table(running)).toEqual(expected.bySymbol);
    const stored = await streamContents(server);
    expect(stored.costIds).toEqual(expected.costIds);
    expect(stored.alerts).toEqual(expected.alerts);
  }, 150_000);
});
