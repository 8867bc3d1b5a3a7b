import { type Batch, hashRows } from "@espmesh/events";

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
 * A batch on its way through the DAG: its events, the old values of its updates, and the shard
 * every event belongs to (decided at the source window from its routing key, and carried along).
 */
export interface Flow {
  /** The events; a delete carries the values of the row it deletes. */
  readonly batch: Batch;
  /**
   * The values before the change for every `update` row (same schema and length as `batch`,
   * rows that are not updates hold anything). Undefined when the batch holds no update.
   */
  readonly old: Batch | undefined;
  /** Shard of each event. */
  readonly shards: ShardVector;
}
