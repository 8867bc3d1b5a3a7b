/**
 * `npm run bench -- worker-state`: end-to-end events/s from the SDK through the balancer and two
 * worker processes, with state kept in memory inside each worker and with the Redis-backed state
 * service, in one run. Metric `redis-state` (events/s, memory state as baseline).
 */
import { createClient } from "@espmesh/client";
import { parseSchemaString, type Row } from "@espmesh/events";
import { startLocalMesh } from "../support/local-mesh.js";
import { TOTALS_PROJECT, TRADES_SCHEMA, trades } from "../support/trades.js";
import { emit, printTable } from "./lib/report.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);

const batches: Row[][] = [];
for (let start = 1; start <= EVENTS; start += 1000) batches.push(trades(start, 1000));

async function run(state: "memory" | "redis"): Promise<number> {
  const mesh = await startLocalMesh({
    project: "trades",
    projectText: TOTALS_PROJECT,
    settings: { routing: { trades: { policy: "consistent-hash", hashFields: ["symbol"] } } },
    sources: [
      { name: "trades", schema: TRADES_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } },
    ],
    workers: 2,
    state,
  });
  try {
    const client = createClient({ address: mesh.balancerAddress, balancerAddress: mesh.balancerAddress });
    const publisher = client.publisher("trades", "trades", {
      schema: parseSchemaString(TRADES_SCHEMA),
      maxUnacked: 32,
    });
    await publisher.publish(batches[0]!);
    await publisher.flush();
    const started = performance.now();
    for (const batch of batches.slice(1)) await publisher.publish(batch);
    await publisher.close();
    const seconds = (performance.now() - started) / 1000;
    client.close();
    return (EVENTS - 1000) / seconds;
  } finally {
    await mesh.stop();
  }
}

const memory = await run("memory");
const redis = await run("redis");
printTable(`worker-state: ${EVENTS} trades, SDK -> balancer -> 2 workers, acknowledged after commit`, [
  { state: "memory (in each worker)", "events/s": memory },
  { state: "redis (state service)", "events/s": redis },
  { state: "ratio", "events/s": redis / memory },
]);
emit({ bench: "worker-state", metric: "redis-state", value: redis, unit: "events/s", baseline: memory });
