/**
 * cascade: events/s end to end through the two-stage cascade of test/support/cascade.ts, on a
 * throwaway nats-server and redis-server: the SDK publishes trades (batches of 1000) into stage 1
 * (filter + compute, 2 worker processes, `cost` bound to the COST stream, one message per shard
 * and origin with a de-duplication id); stage 2's balancer reads COST through a durable and feeds
 * 2 worker processes (aggregate + pattern, alerts bound to ALERTS). The clock runs from the first
 * publish until stage 2 has committed and acked the whole COST stream.
 *
 * Metrics: `cascade` (trades/s into stage 1, through both stages), `stage1` (trades/s acked by
 * stage 1, i.e. committed with every output stored in COST), `stage2` (cost events/s through
 * stage 2). Baseline of `cascade` and `stage1`: stage 1 alone, same workers, no output binding.
 * BENCH_EVENTS (default 200000), BENCH_BATCH (events per published batch, default 1000),
 * BENCH_WINDOW (unacked SDK batches, default 16), CASCADE_SHARDS (shards of both stages, default 64).
 * Stage 1 publishes one message per (shard, input batch): bigger batches and fewer shards mean
 * fewer, bigger messages, and JetStream messages/s is what bounds this figure.
 */
import { createClient } from "@espmesh/client";
import { parseSchemaString } from "@espmesh/events";
import { startNats, startRedis, waitFor } from "@espmesh/testing";
import {
  referenceRun,
  SHARDS,
  STAGE1,
  settled,
  sortBySymbol,
  startCascade,
  TRADES_SCHEMA,
  trades,
} from "../support/cascade.js";
import { startLocalMesh } from "../support/local-mesh.js";
import { emit, printTable } from "./lib/report.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 16);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);

/** Publishes every trade into stage 1 and resolves once all are acked. */
async function publishAll(address: string): Promise<void> {
  const client = createClient({ address, balancerAddress: address });
  const publisher = client.publisher("stage1", "trades", {
    schema: parseSchemaString(TRADES_SCHEMA),
    maxRows: BATCH,
    maxUnacked: WINDOW,
  });
  for (let start = 1; start <= EVENTS; start += BATCH) {
    await publisher.publish(trades(start, Math.min(EVENTS, start + BATCH - 1)));
  }
  await publisher.close();
  client.close();
}

const [nats, redis] = await Promise.all([startNats(), startRedis()]);

// Baseline: stage 1 alone, nothing bound.
const alone = await startLocalMesh({
  project: "stage1",
  projectText: STAGE1,
  settings: { routing: { trades: { policy: "consistent-hash", hashFields: ["symbol"] } }, state: "service" },
  sources: [{ name: "trades", schema: TRADES_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } }],
  workers: 2,
  redis,
  shardCount: SHARDS,
  checkpointIntervalMs: 50,
});
let aloneRate = 0;
try {
  await settled(alone, 2);
  const began = performance.now();
  await publishAll(alone.balancerAddress);
  aloneRate = EVENTS / ((performance.now() - began) / 1000);
} finally {
  await alone.stop();
}

const cascade = await startCascade({ nats, redis, stage1Workers: 2, stage2Workers: 2 });
try {
  const started = performance.now();
  await publishAll(cascade.stage1.balancerAddress);
  const stage1Done = performance.now();
  await waitFor(
    async () => {
      const [lag] = await cascade.stage2.balancer.inputLag();
      return lag?.pending === 0 && lag.ackPending === 0 && cascade.stage2.balancer.stats().outstanding === 0;
    },
    { timeoutMs: 600_000, intervalMs: 20, message: "stage 2 to consume COST" },
  );
  const finished = performance.now();

  const expected = referenceRun(EVENTS, BATCH);
  const reader = createClient({
    address: cascade.stage2.balancerAddress,
    balancerAddress: cascade.stage2.balancerAddress,
  });
  const table = sortBySymbol(await reader.query("stage2", "bySymbol"));
  reader.close();
  const exact = JSON.stringify(table) === JSON.stringify(expected.bySymbol);

  const seconds = (finished - started) / 1000;
  const cascadeRate = EVENTS / seconds;
  const stage1Rate = EVENTS / ((stage1Done - started) / 1000);
  const costEvents = expected.costIds.length;
  const stage2Rate = costEvents / seconds;
  printTable(`cascade: ${EVENTS} trades, ${costEvents} cost events, 2 + 2 workers, ${WINDOW} batches in flight`, [
    { figure: "end to end (trades/s)", value: cascadeRate, seconds: Number(seconds.toFixed(2)) },
    {
      figure: "stage 1 acked (trades/s)",
      value: stage1Rate,
      seconds: Number(((stage1Done - started) / 1000).toFixed(2)),
    },
    { figure: "stage 2 (cost events/s)", value: stage2Rate, seconds: Number(seconds.toFixed(2)) },
    {
      figure: "baseline: stage 1 alone (trades/s)",
      value: aloneRate,
      seconds: Number((EVENTS / aloneRate).toFixed(2)),
    },
    { figure: `stage 2 table equals the one-process run: ${exact ? "yes" : "NO"}`, value: table.length, seconds: 0 },
  ]);
  emit(
    {
      bench: "cascade",
      metric: "cascade",
      value: Math.round(cascadeRate),
      unit: "events/s",
      baseline: Math.round(aloneRate),
    },
    {
      bench: "cascade",
      metric: "stage1",
      value: Math.round(stage1Rate),
      unit: "events/s",
      baseline: Math.round(aloneRate),
    },
    { bench: "cascade", metric: "stage2", value: Math.round(stage2Rate), unit: "events/s" },
  );
} finally {
  await cascade.stop();
  await nats.stop();
  await redis.stop();
}
