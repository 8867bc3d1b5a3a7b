import type { TableKey } from "./values.js";

/** An entry of a sharded table: it lives in the shard of the event that created it. */
export interface ShardedEntry {
  readonly shard: number;
}

/**
 * A map by table key that also indexes its entries by shard, so that one shard's entries can be
 * snapshotted or dropped without scanning the others.
 */
export class ShardedTable<E extends ShardedEntry> {
  private readonly entries = new Map<TableKey, E>();
  private readonly byShard = new Map<number, Set<TableKey>>();

  get size(): number {
    return this.entries.size;
  }

  get(key: TableKey): E | undefined {
    return this.entries.get(key);
  }

  has(key: TableKey): boolean {
    return this.entries.has(key);
  }

  /** Adds or replaces an entry (a replacement must keep its shard). */
  set(key: TableKey, entry: E): void {
    const previous = this.entries.get(key);
    this.entries.set(key, entry);
    if (previous !== undefined && previous.shard === entry.shard) return;
    if (previous !== undefined) this.byShard.get(previous.shard)?.delete(key);
    let keys = this.byShard.get(entry.shard);
    if (keys === undefined) {
      keys = new Set();
      this.byShard.set(entry.shard, keys);
    }
    keys.add(key);
  }

  delete(key: TableKey): E | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    const keys = this.byShard.get(entry.shard);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.byShard.delete(entry.shard);
    }
    return entry;
  }

  /** The entries of one shard. */
  *ofShard(shard: number): IterableIterator<[TableKey, E]> {
    const keys = this.byShard.get(shard);
    if (keys === undefined) return;
    for (const key of keys) yield [key, this.entries.get(key)!];
  }

  /** The number of entries of one shard. */
  countOf(shard: number): number {
    return this.byShard.get(shard)?.size ?? 0;
  }

  /** Removes every entry of a shard and returns them. */
  dropShard(shard: number): [TableKey, E][] {
    const dropped = [...this.ofShard(shard)];
    for (const [key] of dropped) this.entries.delete(key);
    this.byShard.delete(shard);
    return dropped;
  }

  /** Shards holding entries. */
  shards(): IterableIterator<number> {
    return this.byShard.keys();
  }

  /** Every entry, in insertion order. */
  [Symbol.iterator](): IterableIterator<[TableKey, E]> {
    return this.entries.entries();
  }

  values(): IterableIterator<E> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
    this.byShard.clear();
  }
}
