import type { MessageInitShape } from "@bufbuild/protobuf";
import type * as pb from "@espmesh/proto";
import type { CompiledSource } from "./options.js";

/** A response on a Publish stream. */
export type PublishReply = MessageInitShape<typeof pb.PublishResponseSchema>;
/** A bad event as the wire carries it. */
export type BadEventInit = MessageInitShape<typeof pb.BadEventSchema>;

/** Where a delivery's outcome goes: the Publish stream it came in on. */
export interface DeliverySink {
  /** Sends the outcome of one origin. */
  reply(response: PublishReply): void;
  /** Called once per delivery when it is resolved (after `reply`). */
  settled(): void;
}

/**
 * One published batch (one origin) from the moment it is read until every worker it went to
 * committed it. `pending` counts its live parts (in flight or held); the origin is answered when
 * it drops to zero, never before.
 */
export class Delivery {
  private pending = 1;
  // Made on the first bad event only: most deliveries have none.
  private badEvents: BadEventInit[] | undefined;
  private badRows: Set<number> | undefined;
  private failure: { code: string; message: string } | undefined;
  private resolved = false;

  constructor(
    readonly origin: pb.Origin,
    readonly window: string,
    readonly count: number,
    /** Estimated wire bytes per event, for the in-flight byte bound. */
    readonly bytesPerEvent: number,
    private readonly sink: DeliverySink,
  ) {}

  /** Whether the origin has been answered. */
  get done(): boolean {
    return this.resolved;
  }

  /** A part became `n` parts (n may be 0: the part vanished). */
  split(n: number): void {
    this.pending += n - 1;
    if (this.pending === 0) this.resolve();
  }

  /** One part was committed (or needs no commit). */
  partDone(): void {
    this.pending--;
    if (this.pending === 0) this.resolve();
  }

  /** Events a worker rejected; `rowOf` maps a sub-batch row to the row of the published batch. */
  addBadEvents(events: readonly pb.BadEvent[], rowOf: (row: number) => number): void {
    this.badRows ??= new Set();
    this.badEvents ??= [];
    const { badRows, badEvents } = this;
    for (const event of events) {
      const row = rowOf(event.row);
      badRows.add(row);
      badEvents.push({
        window: event.window || this.window,
        row,
        field: event.field,
        reason: event.reason,
        origin: this.origin,
      });
    }
  }

  /** A worker could not apply a part: the origin is answered with this error (the first one wins). */
  fail(code: string, message: string): void {
    this.failure ??= { code, message };
  }

  private resolve(): void {
    if (this.resolved) return;
    this.resolved = true;
    if (this.failure !== undefined) {
      this.sink.reply({
        origin: this.origin,
        result: { case: "error", value: { ...this.failure, badEvents: this.badEvents ?? [] } },
      });
    } else {
      this.sink.reply({
        origin: this.origin,
        result: {
          case: "ack",
          value: { accepted: this.count - (this.badRows?.size ?? 0), badEvents: this.badEvents ?? [] },
        },
      });
    }
    this.sink.settled();
  }
}

/**
 * A piece of a delivery on its way to one worker, or held until its shards have an owner. Rows
 * refer to the delivery's batch; bytes are copied only when the part is cut for a worker.
 */
export interface Part {
  readonly delivery: Delivery;
  readonly source: CompiledSource;
  /** The published message as received; sub-batches are cut from its bytes. */
  readonly message: pb.Batch;
  /** Per-row shards of the whole batch (sources routed by shard). */
  readonly shards: Uint32Array | undefined;
  /** The rows of the batch in this part, ascending; undefined = every row. */
  readonly rows: Uint32Array | undefined;
  /** Number of events. */
  readonly count: number;
}

/** A part of the same delivery with a subset of its rows (`whole` = every row of the batch). */
export function subPart(part: Part, rows: Uint32Array, count: number, whole: boolean): Part {
  return { ...part, rows: whole ? undefined : rows.length === count ? rows : rows.subarray(0, count), count };
}

/** Estimated wire bytes of a part. */
export function partBytes(part: Part): number {
  return Math.ceil(part.count * part.delivery.bytesPerEvent);
}

/** Wire bytes of a batch message's payload (opcodes and columns). */
export function messageBytes(message: pb.Batch): number {
  let bytes = message.opcodes.byteLength + 64;
  for (const column of message.columns) {
    bytes += column.values.byteLength + column.lengths.byteLength + column.nulls.byteLength + 8;
  }
  return bytes;
}
