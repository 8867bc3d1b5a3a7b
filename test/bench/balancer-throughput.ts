/**
 * balancer-throughput: events/s acknowledged end to end, batches of 1000 events
 * (`id*:int64,symbol:string,value:double`), each process on its own:
 *
 * - balancer: client → balancer (`services/balancer/src/main.ts`) → 2 workers; the client counts
 *   events whose origin was acked, i.e. committed by every worker it reached. Once with the
 *   default policy (consistent-hash on `id`: decode, hash, split, re-encode) and once with
 *   round-robin (whole batches forwarded as received). The client asks for coalesced acks, as
 *   the SDK does (clean acks several to a response).
 * - direct (baseline): client → 1 worker over its Process stream, counting `Committed`.
 *
 * Workers: with BENCH_WORKER=engine (the default when `services/worker` is present) the real
 * worker (`services/worker/src/main.ts`) running a filter-only ESP project (source → filter
 * `value >= 0`, stateless, `state: none`); with BENCH_WORKER=test the balancer's test worker in
 * filter-only mode (decode, one pass over a column). The client keeps up to WINDOW batches
 * (the SDK's default, 256) unacknowledged.
 *
 * Every path runs at the deployment's default checkpoint interval (100 ms; the `balancer` metric),
 * then direct and consistent-hash again at 50 ms (`balancer-50ms`). An ack waits for a commit, so
 * with a fixed window the direct path tops out at WINDOW × 1000 events per interval (its worker
 * idles the rest of it); the balanced path reaches that only while the balancer gets a window
 * through within one interval, which at 50 ms on a two-core machine it does not quite. Beside events/s the table shows, for the
 * counted seconds, the ack latency (send → ack, median and 99th percentile), the mean number of
 * batches unacknowledged when one is sent, and the cores each process used (client, workers,
 * balancer; from `/proc`). Workers commit on their own timers, so with round-robin the client's
 * window is freed twice per commit interval and that path can outrun the direct one.
 * BENCH_NODE_ARGS passes node flags to every process started (e.g. `--cpu-prof`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { encodeBatch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { emit, printTable } from "./lib/report.js";

const BATCH = 1000;
const WINDOW = Number(process.env.BENCH_WINDOW ?? 256);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_MS = 1000;
/** Extra node flags for every process started (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const testWorkerMain = join(root, "services/balancer/src/test/test-worker-main.ts");
const engineWorkerMain = join(root, "services/worker/src/main.ts");
const WORKER = process.env.BENCH_WORKER ?? (existsSync(engineWorkerMain) ? "engine" : "test");
const SCHEMA = "id*:int64,symbol:string,value:double";
const PROJECT = `
<project name="bench">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" insert-only="true" index="pi_EMPTY">
          <schema-string>${SCHEMA}</schema-string>
        </window-source>
        <window-filter name="kept" index="pi_EMPTY">
          <expression>value &gt;= 0</expression>
        </window-filter>
      </windows>
      <edges><edge source="trades" target="kept"/></edges>
    </contquery>
  </contqueries>
</project>`;
const projectFile = join(mkdtempSync(join(tmpdir(), "espmesh-bench-")), "bench.xml");
writeFileSync(projectFile, PROJECT);
const balancerMain = join(root, "services/balancer/src/main.ts");
const schema = parseSchemaString(SCHEMA);
const children: ChildProcess[] = [];

/**
 * Starts a TypeScript program and resolves with the address in the first JSON line of its
 * output that has one (its log keeps being read, so it never blocks on a full pipe).
 */
function startProcess(file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [...NODE_ARGS, "--import", "tsx", file, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      const parsed = JSON.parse(line) as { address?: string };
      if (parsed.address) resolve(parsed.address);
    });
    child.once("exit", (code) => reject(new Error(`${file} exited (${code}) before printing its address`)));
  });
}

/** The deployment's default checkpoint interval (DESIGN §5; the worker's own default). */
const DEFAULT_CHECKPOINT_MS = 100;

/** Starts one worker process of the chosen kind, committing every `checkpointMs`, and resolves with its address. */
function startWorker(id: string, policy: string, checkpointMs: number): Promise<string> {
  if (WORKER === "test") return startProcess(testWorkerMain, [id, String(checkpointMs)]);
  return startProcess(engineWorkerMain, [], {
    ESPMESH_WORKER_ID: id,
    ESPMESH_PROJECT: "bench",
    ESPMESH_PROJECT_FILE: projectFile,
    ESPMESH_SETTINGS: JSON.stringify({
      routing: { trades: { policy } },
      state: "none",
      checkpointIntervalMs: checkpointMs,
    }),
    ESPMESH_WORKER_ADDRESS: "127.0.0.1:0",
    ESPMESH_LOG_LEVEL: "info",
  });
}

async function stopAll(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null) continue;
    child.kill("SIGTERM");
    await once(child, "exit");
  }
}

/** Pre-encoded batches with distinct keys; each request only changes the origin. */
const batches = Array.from({ length: 16 }, (_, b) =>
  encodeBatch(
    rowsToBatch(
      schema,
      Array.from({ length: BATCH }, (_, i) => ({ id: b * BATCH + i, symbol: `S${i % 50}`, value: i })),
    ),
    { window: "trades" },
  ),
);

/**
 * Batch `seq` of the rotation with its origin (the wire message is shared, only the origin
 * differs). As the SDK does, only the first batch of a stream carries the schema.
 */
function withOrigin(seq: number): pb.Batch {
  const { schema, ...batch } = batches[seq % batches.length]!;
  return {
    ...batch,
    ...(seq === 1 ? { schema } : {}),
    origin: create(pb.OriginSchema, { sourceId: "bench", seq: BigInt(seq) }),
  };
}

/** CPU seconds a child process used so far (Linux `/proc`, 100 ticks a second; 0 elsewhere). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by this process and by each running child. */
function cpuSnapshot(): { client: number; children: Map<number, number> } {
  const usage = process.cpuUsage();
  return {
    client: (usage.user + usage.system) / 1e6,
    children: new Map(children.map((child) => [child.pid!, cpuSecondsOf(child.pid)])),
  };
}

/** Acked events per second, ack latency, and the cores each process used while counting. */
interface RunResult {
  rate: number;
  /** Milliseconds from a batch's send to its ack: median and 99th percentile. */
  latency: { p50: number; p99: number };
  /** Mean batches unacknowledged at the client when it sends one (at most WINDOW). */
  unacked: number;
  /** Cores used: the client, then each child in start order. */
  cores: number[];
}

/** What a pipelined stream reports to {@link run}. */
interface Tracker {
  /** Whether to send another batch. */
  more(): boolean;
  /** Batch `seq` was handed to the stream. */
  sent(seq: number): void;
  /** Batch `seq` was acked with `events` events. */
  acked(seq: number, events: number): void;
}

/** Counts acknowledged events per second after the warm-up; `send` runs a pipelined stream. */
async function run(send: (tracker: Tracker) => Promise<void>): Promise<RunResult> {
  let counting = false;
  let events = 0;
  let started = 0;
  let before = cpuSnapshot();
  let after = before;
  let ended = 0;
  const warm = setTimeout(() => {
    counting = true;
    started = performance.now();
    before = cpuSnapshot();
  }, WARMUP_MS);
  const deadline = performance.now() + WARMUP_MS + SECONDS * 1000;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let unackedSum = 0;
  let unackedSamples = 0;
  await send({
    more() {
      if (performance.now() < deadline) return true;
      if (ended === 0) {
        ended = performance.now();
        after = cpuSnapshot();
      }
      return false;
    },
    sent(seq) {
      sentAt.set(seq, performance.now());
      if (counting && ended === 0) {
        unackedSum += sentAt.size;
        unackedSamples++;
      }
    },
    acked(seq, n) {
      const at = sentAt.get(seq);
      sentAt.delete(seq);
      if (!counting || ended !== 0) return;
      events += n;
      if (at !== undefined) latencies.push(performance.now() - at);
    },
  });
  clearTimeout(warm);
  const seconds = (ended - started) / 1000;
  const cores = [(after.client - before.client) / seconds];
  for (const [pid, used] of after.children) cores.push((used - (before.children.get(pid) ?? 0)) / seconds);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    rate: events / seconds,
    latency: { p50: at(0.5), p99: at(0.99) },
    unacked: unackedSamples === 0 ? 0 : unackedSum / unackedSamples,
    cores,
  };
}

/** A credit gate: at most WINDOW batches unacknowledged. */
function credits() {
  let free = WINDOW;
  let wake: (() => void) | undefined;
  return {
    async take() {
      while (free === 0) await new Promise<void>((resolve) => (wake = resolve));
      free--;
    },
    give(n: number) {
      free += n;
      wake?.();
      wake = undefined;
    },
  };
}

async function throughBalancer(policy: "consistent-hash" | "round-robin", checkpointMs: number): Promise<RunResult> {
  const workers = await Promise.all(["w1", "w2"].map((id) => startWorker(id, policy, checkpointMs)));
  const address = await startProcess(balancerMain, [], {
    ESPMESH_DEPLOYMENT_JSON: JSON.stringify({
      project: "bench",
      sources: [{ name: "trades", schema: SCHEMA, routing: { policy } }],
    }),
    ESPMESH_WORKERS: workers.map((worker, i) => `w${i + 1}=${worker}`).join(","),
    ESPMESH_BALANCER_ADDRESS: "127.0.0.1:0",
    ESPMESH_LOG_LEVEL: "info",
  });
  const client = pb.createServiceClient(pb.IngestService, address);
  try {
    return await run(async (tracker) => {
      const gate = credits();
      async function* requests() {
        for (let seq = 1; tracker.more(); seq++) {
          await gate.take();
          tracker.sent(seq);
          yield { project: "bench", batch: withOrigin(seq), coalesceAcks: true };
        }
      }
      for await (const response of client.publish(requests())) {
        for (const origin of response.acked) tracker.acked(Number(origin.seq), BATCH);
        gate.give(response.acked.length);
        if (response.origin === undefined) continue;
        if (response.result.case !== "ack") throw new Error(`publish failed: ${JSON.stringify(response.result.value)}`);
        tracker.acked(Number(response.origin.seq), response.result.value.accepted);
        gate.give(1);
      }
    });
  } finally {
    client.close();
    await stopAll();
  }
}

async function direct(checkpointMs: number): Promise<RunResult> {
  const address = await startWorker("w1", "round-robin", checkpointMs);
  const client = pb.createServiceClient(pb.WorkerService, address);
  try {
    return await run(async (tracker) => {
      const gate = credits();
      let committed = 0;
      async function* requests() {
        yield { kind: { case: "open" as const, value: { project: "bench", deployment: "default", shardCount: 4096 } } };
        for (let seq = 1; tracker.more(); seq++) {
          await gate.take();
          tracker.sent(seq);
          yield { kind: { case: "batch" as const, value: { seq: BigInt(seq), batch: withOrigin(seq) } } };
        }
      }
      const controller = new AbortController();
      let sent = 0;
      const stream = client.process(
        (async function* () {
          for await (const request of requests()) {
            if (request.kind.case === "batch") sent = Number(request.kind.value.seq);
            yield request;
          }
          // Wait for the last commit before closing the stream.
          while (committed < sent) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        { signal: controller.signal },
      );
      for await (const response of stream) {
        if (response.kind.case !== "committed") continue;
        const upTo = Number(response.kind.value.upTo);
        for (let seq = committed + 1; seq <= upTo; seq++) tracker.acked(seq, BATCH);
        gate.give(upTo - committed);
        committed = upTo;
      }
    });
  } finally {
    client.close();
    await stopAll();
  }
}

/** The table columns of a run beside its rate: ack latency, client window use, cores per process. */
function details(result: RunResult, names: string[]): Record<string, string> {
  return {
    "ack ms p50/p99": `${result.latency.p50.toFixed(1)}/${result.latency.p99.toFixed(1)}`,
    unacked: result.unacked.toFixed(0),
    cores: result.cores.map((cores, i) => `${names[i] ?? `p${i}`} ${cores.toFixed(2)}`).join(", "),
  };
}

try {
  const directRun = await direct(DEFAULT_CHECKPOINT_MS);
  const hashRun = await throughBalancer("consistent-hash", DEFAULT_CHECKPOINT_MS);
  const roundRobinRun = await throughBalancer("round-robin", DEFAULT_CHECKPOINT_MS);
  const directFastRun = await direct(50);
  const hashFastRun = await throughBalancer("consistent-hash", 50);
  const balanced = ["client", "w1", "w2", "balancer"];
  const row = (path: string, checkpointMs: number, run: RunResult, baseline: RunResult, names: string[]) => ({
    path,
    checkpoint: `${checkpointMs} ms`,
    "events/s": run.rate,
    ratio: run.rate / baseline.rate,
    ...details(run, names),
  });
  printTable(`events/s, batches of ${BATCH}, window ${WINDOW} batches, ${SECONDS} s, ${WORKER} workers`, [
    row("client → 1 worker (direct)", DEFAULT_CHECKPOINT_MS, directRun, directRun, ["client", "w1"]),
    row("client → balancer → 2 workers, consistent-hash", DEFAULT_CHECKPOINT_MS, hashRun, directRun, balanced),
    row("client → balancer → 2 workers, round-robin", DEFAULT_CHECKPOINT_MS, roundRobinRun, directRun, balanced),
    row("client → 1 worker (direct)", 50, directFastRun, directFastRun, ["client", "w1"]),
    row("client → balancer → 2 workers, consistent-hash", 50, hashFastRun, directFastRun, balanced),
  ]);
  const metric = (name: string, run: RunResult, baseline: RunResult) => ({
    bench: "balancer-throughput",
    metric: name,
    value: run.rate,
    unit: "events/s",
    baseline: baseline.rate,
  });
  emit(
    metric("balancer", hashRun, directRun),
    metric("balancer-round-robin", roundRobinRun, directRun),
    metric("balancer-50ms", hashFastRun, directFastRun),
  );
} finally {
  await stopAll();
}
