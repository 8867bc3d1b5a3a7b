import { encodeBatch } from "@espmesh/events";
import {
  addService,
  bindServer,
  HealthResponse_Status,
  readProcessRequest,
  shutdownServer,
  WorkerService,
} from "@espmesh/proto";
import { getMeter, MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { createCommitter } from "./committer.js";
import { type CompiledWorkerOptions, compileWorkerOptions, type WorkerOptions } from "./options.js";
import { createOutputHub } from "./output-hub.js";
import { type ProcessSession, runProcessSession, type SessionContext } from "./process-session.js";
import { createShardLedger } from "./shard-ledger.js";

/** Lifecycle of a worker. */
export type WorkerState = "starting" | "running" | "draining" | "stopped";

/** A worker: one deployment's engine behind the WorkerService gRPC API. */
export interface Worker {
  readonly id: string;
  readonly state: WorkerState;
  /** `host:port` it serves on, once started. */
  readonly address: string;
  /** Shards it owns now. */
  ownedShards(): number[];
  start(): Promise<{ address: string; port: number }>;
  /**
   * Drains: stops taking batches, commits every owned shard and gives them up, then closes the
   * server. Resolves when nothing it applied is left uncommitted.
   */
  stop(): Promise<void>;
}

/** Creates a {@link Worker}. */
export function createWorker(options: WorkerOptions): Worker {
  const config: CompiledWorkerOptions = compileWorkerOptions(options);
  const { engine, logger } = config;
  const ledger = createShardLedger();
  const hub = createOutputHub({ maxQueuedBatches: config.maxSubscriberLag });
  const meter = getMeter("@espmesh/worker");
  const eventsIn = meter.createCounter("espmesh_worker_events", { description: "events applied per window" });
  const badEvents = meter.createCounter("espmesh_worker_bad_events", { description: "events rejected per window" });
  const commitLatency = meter.createHistogram("espmesh_worker_commit_ms", {
    description: "checkpoint commit latency",
    unit: "ms",
  });
  meter
    .createObservableGauge("espmesh_worker_shards_owned", { description: "shards owned" })
    .addCallback((result) => result.observe(ledger.owned().length, { worker: config.id }));
  const committer = createCommitter({
    owner: config.id,
    engine,
    ledger,
    state: config.state,
    ...(config.outputs === undefined ? {} : { outputs: config.outputs }),
    logger,
    onCommit: (_outcome, millis) => commitLatency.record(millis),
  });
  const sessions = new Set<ProcessSession>();
  const server = new grpc.Server();
  let state: WorkerState = "starting";
  let address = "";

  const context: SessionContext = {
    workerId: config.id,
    engine,
    ledger,
    committer,
    hub,
    ...(config.outputs === undefined ? {} : { outputs: config.outputs }),
    state: config.state,
    checkpointIntervalMs: config.checkpointIntervalMs,
    logger,
    now: config.now,
    onApplied: (window, applied, rejected) => {
      eventsIn.add(applied, { window });
      if (rejected > 0) badEvents.add(rejected, { window });
    },
  };

  addService(
    server,
    WorkerService,
    {
      process(requests, call) {
        if (state !== "running") throw new MeshError("UNAVAILABLE", `worker ${config.id} is ${state}`);
        const session = runProcessSession(requests, context, call.signal);
        sessions.add(session);
        call.signal.addEventListener("abort", () => sessions.delete(session));
        return session.replies;
      },
      async *subscribe(request, call) {
        const replicated = engine.isReplicated(request.window);
        for await (const batch of hub.subscribe(request.window, call.signal)) {
          yield { batch: encodeBatch(batch, { window: request.window }), replicated };
        }
      },
      snapshot(request) {
        const { rows, replicated } = engine.query(request.window);
        return { rows: encodeBatch(rows, { window: request.window }), replicated };
      },
      health() {
        const status =
          state === "running"
            ? HealthResponse_Status.SERVING
            : state === "draining"
              ? HealthResponse_Status.DRAINING
              : state === "stopped"
                ? HealthResponse_Status.STOPPED
                : HealthResponse_Status.STARTING;
        return { status, workerId: config.id, project: config.project, shardsOwned: ledger.owned().length };
      },
    },
    { readers: { process: readProcessRequest } },
  );

  return {
    id: config.id,
    get state() {
      return state;
    },
    get address() {
      return address;
    },
    ownedShards: () => ledger.owned(),
    async start() {
      const port = await bindServer(server, config.address);
      const host = config.address.slice(0, config.address.lastIndexOf(":"));
      address = `${host}:${port}`;
      state = "running";
      logger.info({ address, project: config.project }, "worker serving");
      return { address, port };
    },
    async stop() {
      if (state === "stopped") return;
      state = "draining";
      try {
        // Each session commits what it applied and answers Committed before its stream ends.
        await Promise.all([...sessions].map((session) => session.drain()));
        const owned = ledger.owned();
        await committer.commit(owned);
        if (config.state && owned.length > 0) {
          const byEpoch = new Map<number, number[]>();
          for (const shard of owned) {
            const epoch = ledger.epochOf(shard)!;
            byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), shard]);
          }
          for (const [epoch, shards] of byEpoch) await config.state.release(shards, config.id, epoch);
        }
      } catch (error) {
        logger.error({ err: MeshError.from(error).message }, "drain could not commit every shard");
      }
      hub.close();
      await shutdownServer(server);
      state = "stopped";
    },
  };
}
