/**
 * state-commit: commits of 100 shards × 1 KB of window state (plus one watermark per shard)
 * through the whole path — state client → gRPC → state service → one Lua script in Redis —
 * beside a raw ioredis pipeline writing the same bytes (one HSET of the blob and one of the
 * watermark per shard, no fencing, no atomicity), in one run against a throwaway redis-server.
 *
 * The service runs in this process, so both paths get the same CPU: one Node.js event loop plus
 * the Redis process. Four committers run concurrently on disjoint shards; the two paths run
 * alternately ROUNDS times and each one's median round is reported, so a change in machine load
 * hits both alike. Beside throughput it reports the CPU each commit cost in Node.js and in Redis,
 * which moves less than throughput when the machine is shared.
 */
import { createStateService } from "@espmesh/state";
import { createServiceBackend, type ShardCommit } from "@espmesh/state-client";
import { startRedis } from "@espmesh/testing";
import { Redis } from "ioredis";
import { emit, printTable } from "./lib/report.js";

const SHARDS = 100;
const BLOB_BYTES = 1024;
const CONCURRENCY = 4;
const WARM_MS = 500;
const RUN_MS = 2000;
const ROUNDS = 5;

interface Round {
  commits: number;
  seconds: number;
  /** Node.js CPU (this process: client and service), µs per commit. */
  nodeCpu: number;
  /** redis-server CPU, µs per commit. */
  redisCpu: number;
}

/** CPU seconds redis-server has used, from INFO cpu. */
async function redisCpuSeconds(probe: Redis): Promise<number> {
  const info = await probe.info("cpu");
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const system = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return user + system;
}

/** Runs `commit` in CONCURRENCY loops for WARM_MS, then counts commits and CPU for RUN_MS. */
async function run(probe: Redis, commit: (lane: number, round: number) => Promise<void>): Promise<Round> {
  let counting = false;
  let stop = false;
  let commits = 0;
  const lanes = Array.from({ length: CONCURRENCY }, async (_, lane) => {
    for (let round = 1; !stop; round++) {
      await commit(lane, round);
      if (counting) commits++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, WARM_MS));
  const redisBefore = await redisCpuSeconds(probe);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  counting = true;
  await new Promise((resolve) => setTimeout(resolve, RUN_MS));
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const redisSeconds = (await redisCpuSeconds(probe)) - redisBefore;
  stop = true;
  await Promise.all(lanes);
  return {
    commits,
    seconds,
    nodeCpu: (node.user + node.system) / commits,
    redisCpu: (redisSeconds * 1e6) / commits,
  };
}

function median(rounds: Round[]): Round {
  const sorted = [...rounds].sort((a, b) => a.commits / a.seconds - b.commits / b.seconds);
  return sorted[Math.floor(sorted.length / 2)] as Round;
}

function shardsOf(lane: number): number[] {
  return Array.from({ length: SHARDS }, (_, i) => lane * SHARDS + i);
}

const blobs = Array.from({ length: CONCURRENCY * SHARDS }, (_, i) => new Uint8Array(BLOB_BYTES).fill(i % 251));

async function main(): Promise<void> {
  const redis = await startRedis();
  const service = createStateService({ redisUrl: redis.url });
  await service.start();
  const state = createServiceBackend({ project: "bench", deployment: "state-commit", address: service.address });
  const raw = new Redis(redis.url);
  const probe = new Redis(redis.url);
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, lane) => state.acquire(shardsOf(lane), `w${lane}`, 1)));
    const serviceCommit = async (lane: number, round: number) => {
      const shards: ShardCommit[] = shardsOf(lane).map((shard) => ({
        shard,
        windows: { totals: blobs[shard] as Uint8Array },
        watermarks: { source: round },
      }));
      await state.commit({ owner: `w${lane}`, epoch: 1, shards });
    };
    const pipelineCommit = async (lane: number, round: number) => {
      const pipeline = raw.pipeline();
      for (const shard of shardsOf(lane)) {
        const blob = blobs[shard] as Uint8Array;
        const key = `raw:{bench}:shard:${shard}`;
        pipeline.hset(key, "w:totals", Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
        pipeline.hset(key, "m:source", String(round));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    };
    const serviceRounds: Round[] = [];
    const pipelineRounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      serviceRounds.push(await run(probe, serviceCommit));
      pipelineRounds.push(await run(probe, pipelineCommit));
    }
    const viaService = median(serviceRounds);
    const viaPipeline = median(pipelineRounds);

    const figures = (result: Round) => {
      const shardsPerSecond = (result.commits * SHARDS) / result.seconds;
      return {
        "commits/s": result.commits / result.seconds,
        "shards/s": shardsPerSecond,
        "MB/s": (shardsPerSecond * BLOB_BYTES) / 1e6,
        "node µs/commit": result.nodeCpu,
        "redis µs/commit": result.redisCpu,
      };
    };
    const service_ = figures(viaService);
    const pipeline_ = figures(viaPipeline);
    printTable(
      `state-commit: ${SHARDS} shards × ${BLOB_BYTES} B per commit, ${CONCURRENCY} committers, median of ${ROUNDS} × ${RUN_MS} ms`,
      [
        { path: "client → gRPC → state service → Redis (Lua)", ...service_ },
        { path: "raw ioredis pipeline (2 HSET per shard)", ...pipeline_ },
      ],
    );
    emit(
      { bench: "state-commit", metric: "commit", value: service_["MB/s"], unit: "MB/s", baseline: pipeline_["MB/s"] },
      {
        bench: "state-commit",
        metric: "commit-shards",
        value: service_["shards/s"],
        unit: "shards/s",
        baseline: pipeline_["shards/s"],
      },
      {
        bench: "state-commit",
        metric: "node-cpu-per-commit",
        value: service_["node µs/commit"],
        unit: "µs",
        baseline: pipeline_["node µs/commit"],
      },
      {
        bench: "state-commit",
        metric: "redis-cpu-per-commit",
        value: service_["redis µs/commit"],
        unit: "µs",
        baseline: pipeline_["redis µs/commit"],
      },
    );
  } finally {
    raw.disconnect();
    probe.disconnect();
    await state.close();
    await service.stop();
    await redis.stop();
  }
}

await main();
