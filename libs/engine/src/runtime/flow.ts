import { type Batch, type Column, hashRows, type Schema, selectRows } from "@espmesh/events";

/** The shard of each row of a flowing batch. */
export interface ShardVector {
  /** The shard of row `row`. */
  get(row: number): number;
}

/** Shards given explicitly, one per row. */
export class ArrayShards implements ShardVector {
  constructor(readonly shards: Uint32Array) {}
  get(row: number): number {
    return this.shards[row]!;
  }
}

/** Shards computed on first use from the routing-key hash of a source batch (all rows at once). */
export class HashShards implements ShardVector {
  private shards: Uint32Array | undefined;
  constructor(
    private readonly batch: Batch,
    private readonly fieldIndexes: readonly number[],
    private readonly shardCount: number,
  ) {}
  get(row: number): number {
    let shards = this.shards;
    if (shards === undefined) {
      shards = hashRows(this.batch, this.fieldIndexes);
      const count = this.shardCount;
      for (let i = 0; i < shards.length; i++) shards[i] = shards[i]! % count;
      this.shards = shards;
    }
    return shards[row]!;
  }
}

/** Shards of a selection of another vector's rows. */
export class SelectedShards implements ShardVector {
  constructor(
    private readonly parent: ShardVector,
    private readonly selection: Uint32Array,
  ) {}
  get(row: number): number {
    return this.parent.get(this.selection[row]!);
  }
}

/**
 * The rows of a flow as a selection of a wider batch: the flow's event `k` is row `rows[k]` of
 * `source` (ascending, `flow.batch.length` of them). Operators that understand it read `source`
 * through `rows` instead of copying; the others read `flow.batch`.
 */
export interface Selection {
  /** The batch the rows are selected from (same schema as the flow; nothing may change it). */
  readonly source: Batch;
  /** Row of `source` of every event; only the first `flow.batch.length` count. */
  readonly rows: Uint32Array;
}

/**
 * A batch on its way through the DAG: its events, the old values of its updates, and the shard
 * every event belongs to (decided at the source window from its routing key, and carried along).
 */
export interface Flow {
  /**
   * The events; a delete carries the values of the row it deletes. With a {@link selection}, a
   * batch whose opcodes and columns are copied from the selection when first read.
   */
  readonly batch: Batch;
  /**
   * The values before the change for every `update` row (same schema and length as `batch`,
   * rows that are not updates hold anything). Undefined when the batch holds no update.
   */
  readonly old: Batch | undefined;
  /** Shard of each event. */
  readonly shards: ShardVector;
  /**
   * Set when the events are a selection of a wider batch (never together with `old`), so that
   * operators can read the selected rows in place instead of copying them.
   */
  readonly selection?: Selection | undefined;
}

/**
 * A flow (without old values) of the rows `rows[0..count)` of `source`. Its `batch` copies the
 * rows only when its opcodes or columns are first read.
 */
export function selectedFlow(source: Batch, rows: Uint32Array, count: number, shards: ShardVector): Flow {
  return { batch: new SelectedBatch(source, rows, count), old: undefined, shards, selection: { source, rows } };
}

/**
 * A batch of selected rows whose `opcodes` and `columns` are getters that copy the rows on first
 * read. A class with getters on its prototype: getters in an object literal would make V8 keep
 * every such batch alive past the next young-generation collection.
 */
class SelectedBatch implements Batch {
  readonly schema: Schema;
  private copy: Batch | undefined = undefined;

  constructor(
    private readonly source: Batch,
    private readonly rows: Uint32Array,
    readonly length: number,
  ) {
    this.schema = source.schema;
  }

  get opcodes(): Uint8Array {
    return this.copied().opcodes;
  }

  get columns(): readonly Column[] {
    return this.copied().columns;
  }

  private copied(): Batch {
    this.copy ??= selectRows(this.source, this.rows, this.length);
    return this.copy;
  }
}
