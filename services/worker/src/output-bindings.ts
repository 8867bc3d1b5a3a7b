import { type Bus, createOutputBinding, type OutputBinding, originMessageId } from "@espmesh/bus";
import { type Batch, selectRows } from "@espmesh/events";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type { OutputBarrier } from "./committer.js";
import type { ApplyResult } from "./engine-host.js";

/** One window's output binding, as the deployment settings give it (`bindings.outputs.<window>`). */
export interface OutputBindingSetting {
  /** The subject the window's events are published on. */
  readonly subject: string;
  /** A stream to create (or extend) so that it stores `subject`. @default none: a stream must exist */
  readonly stream?: string;
}

/** Where a batch entered the mesh: the unit of de-duplication. */
export interface BatchOrigin {
  readonly sourceId: string;
  readonly seq: number;
}

/** Options of {@link createOutputBindings}. */
export interface OutputBindingsOptions {
  readonly bus: Bus;
  /** The producing deployment (part of every message id). */
  readonly deployment: string;
  /** Bound windows and their subjects. */
  readonly bindings: Readonly<Record<string, OutputBindingSetting>>;
  /**
   * Publish lanes per window: shard `s` goes out on lane `s % lanes`. Each lane publishes one
   * message at a time in order (so one shard's messages are stored in order); lanes run in parallel.
   * @default 8
   */
  readonly lanes?: number;
  /** Most events in one message; a shard's outputs for one origin above it are split. @default 5000 */
  readonly maxRowsPerMessage?: number;
  /**
   * Names this worker process in the ids of outputs that no input origin produced (time-driven:
   * retention, pattern expiry); those are published at least once, not exactly once.
   */
  readonly instanceId: string;
  /** @default noopLogger */
  readonly logger?: Logger;
}

/**
 * Publishes the outputs of a worker's bound windows to JetStream, exactly once into the stream:
 * every (window, shard, input origin) part goes out under its own de-duplication id, so a replay
 * after a worker loss (same checkpoint, same origin, same outputs) is dropped by the stream. As an
 * {@link OutputBarrier} it lets the committer wait until what it checkpoints has been stored.
 */
export interface OutputBindings extends OutputBarrier {
  /** The bound windows. */
  readonly windows: ReadonlySet<string>;
  /** Creates or extends the streams bindings name. */
  start(): Promise<void>;
  /**
   * Queues the bound windows' outputs of one applied batch (or of a time step, `origin`
   * undefined), split by shard. Never blocks; {@link flush} waits for them.
   * @throws MeshError INTERNAL when a bound window's output comes without shards.
   */
  publish(outputs: ApplyResult["outputs"], origin: BatchOrigin | undefined): void;
  /** Messages queued and not stored yet. */
  readonly pending: number;
}

interface Pending {
  /** Its place in publishing order (1, 2, ...), what {@link OutputBarrier.mark} counts. */
  readonly n: number;
  readonly lane: OutputBinding;
  readonly batch: Batch;
  readonly msgId: string;
  done: Promise<void>;
  failure: MeshError | undefined;
}

/** Creates the {@link OutputBindings} of a worker. */
export function createOutputBindings(options: OutputBindingsOptions): OutputBindings {
  const laneCount = options.lanes ?? 8;
  const maxRows = options.maxRowsPerMessage ?? 5000;
  if (!Number.isInteger(laneCount) || laneCount < 1) {
    throw new MeshError("INVALID_ARGUMENT", `output bindings: \`lanes\` must be an integer >= 1, got ${laneCount}`);
  }
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `output bindings: \`maxRowsPerMessage\` must be an integer >= 1, got ${maxRows}`,
    );
  }
  const logger = (options.logger ?? noopLogger).child({ component: "output-bindings" });
  const lanes = new Map<string, OutputBinding[]>();
  for (const [window, setting] of Object.entries(options.bindings)) {
    lanes.set(
      window,
      Array.from({ length: laneCount }, () => createOutputBinding(options.bus, { subject: setting.subject, window })),
    );
  }
  const queued = new Map<number, Pending>();
  let issued = 0;
  let timeSeq = 0;

  const send = (record: Pending): void => {
    record.failure = undefined;
    record.done = record.lane.publish(record.batch, record.msgId).then(
      () => {
        queued.delete(record.n);
      },
      (error: unknown) => {
        record.failure = MeshError.from(error);
        logger.warn(
          { msgId: record.msgId, err: record.failure },
          "output publish failed; retried at the next checkpoint",
        );
      },
    );
  };

  const enqueue = (lane: OutputBinding, batch: Batch, msgId: string): void => {
    const record: Pending = { n: ++issued, lane, batch, msgId, done: Promise.resolve(), failure: undefined };
    queued.set(record.n, record);
    send(record);
  };

  const publishWindow = (window: string, batch: Batch, shards: Uint32Array, origin: BatchOrigin): void => {
    const windowLanes = lanes.get(window)!;
    const byShard = new Map<number, number[]>();
    for (let row = 0; row < batch.length; row++) {
      const shard = shards[row]!;
      const rows = byShard.get(shard);
      if (rows === undefined) byShard.set(shard, [row]);
      else rows.push(row);
    }
    for (const [shard, rows] of byShard) {
      const lane = windowLanes[shard % laneCount]!;
      for (let part = 0, from = 0; from < rows.length; part++, from += maxRows) {
        const slice = rows.slice(from, from + maxRows);
        const piece = slice.length === batch.length ? batch : selectRows(batch, Uint32Array.from(slice), slice.length);
        enqueue(lane, piece, originMessageId(options.deployment, window, shard, origin, part));
      }
    }
  };

  return {
    windows: new Set(lanes.keys()),
    get pending() {
      return queued.size;
    },
    async start() {
      for (const [window, setting] of Object.entries(options.bindings)) {
        if (setting.stream === undefined) continue;
        await options.bus.ensureStream({ name: setting.stream, subjects: [setting.subject] });
        logger.info({ window, stream: setting.stream, subject: setting.subject }, "output stream ready");
      }
    },
    publish(outputs, origin) {
      for (const [window, batch, shards] of outputs) {
        if (batch.length === 0 || !lanes.has(window)) continue;
        if (shards === undefined) {
          throw new MeshError("INTERNAL", `output of bound window "${window}" came without shards`, {
            details: { window },
          });
        }
        publishWindow(window, batch, shards, origin ?? { sourceId: `~${options.instanceId}`, seq: ++timeSeq });
      }
    },
    mark: () => issued,
    async flush(mark) {
      const waiting: Pending[] = [];
      for (const [n, record] of queued) {
        if (n > mark) break;
        waiting.push(record);
      }
      for (const record of waiting) if (record.failure !== undefined) send(record);
      await Promise.all(waiting.map((record) => record.done));
      const failed = waiting.find((record) => record.failure !== undefined);
      if (failed !== undefined) throw failed.failure!;
    },
  };
}
