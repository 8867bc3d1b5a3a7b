import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Batch, createSchemaCache, decodeBatch, selectRows } from "@espmesh/events";
import type { ProcessRequest, ProcessResponseSchema } from "@espmesh/proto";
import { createChannel } from "@espmesh/proto";
import type { StateBackend } from "@espmesh/state-client";
import { type Logger, MeshError } from "@espmesh/telemetry";
import type { Committer } from "./committer.js";
import type { ApplyResult, EngineHost } from "./engine-host.js";
import type { BatchOrigin, OutputBindings } from "./output-bindings.js";
import type { OutputHub } from "./output-hub.js";
import type { ShardLedger } from "./shard-ledger.js";

type Reply = MessageInitShape<typeof ProcessResponseSchema>;

/** Everything a Process stream works with; shared by the worker's sessions. */
export interface SessionContext {
  readonly workerId: string;
  readonly engine: EngineHost;
  readonly ledger: ShardLedger;
  readonly committer: Committer;
  readonly hub: OutputHub;
  /** The deployment's output bindings (cascades), when it has any. */
  readonly outputs?: Pick<OutputBindings, "publish">;
  readonly state: StateBackend | undefined;
  readonly checkpointIntervalMs: number;
  readonly logger: Logger;
  /** Current time in microseconds (drives retention and pattern expiry). */
  readonly now: () => number;
  /** Counts applied and rejected events (metrics). */
  readonly onApplied?: (window: string, applied: number, rejected: number) => void;
}

/**
 * Serves one `Process` stream from a balancer: applies its batches in order, owns and gives up
 * shards when told, and every checkpoint interval commits the dirty shards and answers
 * `Committed(upTo)`. The stream's messages are handled strictly one after the other, so a shard
 * is always loaded before anything is applied to it.
 */
export function runProcessSession(
  requests: AsyncIterable<ProcessRequest>,
  context: SessionContext,
  signal: AbortSignal,
): ProcessSession {
  const { engine, ledger, committer, hub, logger } = context;
  const out = createChannel<Reply>();
  const schemas = createSchemaCache();
  let applied = 0;
  let committed = 0;
  let ticking: Promise<void> | undefined;

  const publish = (result: ApplyResult, origin: BatchOrigin | undefined) => {
    for (const [window, batch] of result.outputs) hub.publish(window, batch);
    context.outputs?.publish(result.outputs, origin);
  };

  // One checkpoint at a time; a timer tick that finds one running is skipped.
  const tick = (): Promise<void> => {
    ticking ??= checkpoint().finally(() => {
      ticking = undefined;
    });
    return ticking;
  };

  const checkpoint = async () => {
    try {
      publish(engine.advance(context.now()), undefined);
      const upTo = applied;
      const outcome = await committer.commit();
      if (outcome.fenced.length > 0) {
        out.push({
          kind: {
            case: "failure",
            value: { seq: 0n, code: "FAILED_PRECONDITION", message: `shards ${outcome.fenced.join(",")} were fenced` },
          },
        });
      }
      if (upTo > committed) {
        committed = upTo;
        out.push({ kind: { case: "committed", value: { upTo: BigInt(upTo) } } });
      }
    } catch (error) {
      logger.warn({ err: MeshError.from(error).message }, "checkpoint failed; keeping batches uncommitted");
    }
  };

  const applyBatch = (seq: number, window: string, batch: Batch, sourceId: string, originSeq: number) => {
    const shards = engine.shardsOf(window, batch);
    // De-duplicate: a row whose shard already applied this origin is skipped.
    const keep = sourceId === "" ? undefined : ledger.newRows(shards, sourceId, originSeq);
    let input = batch;
    let inputShards = shards;
    if (keep) {
      input = selectRows(batch, keep, keep.length);
      inputShards = new Uint32Array(keep.length);
      for (let i = 0; i < keep.length; i++) inputShards[i] = shards[keep[i]!]!;
    }
    const result = input.length > 0 ? engine.apply(window, input, inputShards) : { outputs: [], rejected: [] };
    if (sourceId !== "") ledger.advance(inputShards, sourceId, originSeq);
    publish(result, sourceId === "" ? undefined : { sourceId, seq: originSeq });
    context.onApplied?.(window, input.length - result.rejected.length, result.rejected.length);
    if (result.rejected.length > 0) {
      out.push({
        kind: {
          case: "badEvents",
          value: {
            seq: BigInt(seq),
            events: result.rejected.map((event) => ({
              ...event,
              row: keep ? keep[event.row]! : event.row,
              origin: { sourceId, seq: BigInt(originSeq) },
            })),
          },
        },
      });
    }
  };

  const handle = async (request: ProcessRequest) => {
    const kind = request.kind;
    switch (kind.case) {
      case "open":
        out.push({ kind: { case: "ready", value: { workerId: context.workerId } } });
        return;
      case "acquire": {
        const epoch = Number(kind.value.epoch);
        const shards = kind.value.shards;
        const checkpoints = context.state ? await context.state.acquire(shards, context.workerId, epoch) : [];
        const byShard = new Map(checkpoints.map((checkpoint) => [checkpoint.shard, checkpoint]));
        for (const shard of shards) {
          const checkpoint = byShard.get(shard);
          if (context.state) engine.restore(shard, checkpoint?.windows ?? new Map());
          ledger.acquire(shard, epoch, Object.fromEntries(checkpoint?.watermarks ?? []));
        }
        out.push({ kind: { case: "acquired", value: { shards, epoch: kind.value.epoch } } });
        return;
      }
      case "release": {
        const shards = kind.value.shards.filter((shard) => ledger.owns(shard));
        await committer.commit(shards);
        for (const shard of shards) {
          engine.drop(shard);
          ledger.release(shard);
        }
        if (context.state && shards.length > 0) {
          await context.state.release(shards, context.workerId, Number(kind.value.epoch));
        }
        out.push({ kind: { case: "released", value: { shards: kind.value.shards, epoch: kind.value.epoch } } });
        return;
      }
      case "batch": {
        const seq = Number(kind.value.seq);
        const message = kind.value.batch;
        try {
          if (!message) throw new MeshError("INVALID_ARGUMENT", `batch ${seq} carries no events`);
          const batch = decodeBatch(message, schemas);
          applyBatch(seq, message.window, batch, message.origin?.sourceId ?? "", Number(message.origin?.seq ?? 0n));
        } catch (error) {
          const failure = MeshError.from(error);
          out.push({
            kind: { case: "failure", value: { seq: BigInt(seq), code: failure.code, message: failure.message } },
          });
        }
        applied = seq;
        return;
      }
      default:
        return;
    }
  };

  const timer = setInterval(() => void tick(), context.checkpointIntervalMs);
  const stop = () => clearInterval(timer);
  signal.addEventListener("abort", () => {
    stop();
    out.end();
  });

  void (async () => {
    for await (const request of requests) await handle(request);
  })().then(
    async () => {
      await tick();
      stop();
      out.end();
    },
    (error: unknown) => {
      stop();
      out.end(error);
    },
  );

  return {
    replies: out,
    async drain() {
      stop();
      await ticking;
      await tick();
      out.end();
    },
  };
}

/** A running Process stream. */
export interface ProcessSession {
  /** The replies to send to the balancer. */
  readonly replies: AsyncIterable<Reply>;
  /** Commits what was applied, answers `Committed`, and ends the stream. */
  drain(): Promise<void>;
}
