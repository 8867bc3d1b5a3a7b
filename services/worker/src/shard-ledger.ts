/**
 * What a worker knows about the shards it owns: the fencing epoch under which it owns each, and
 * per shard the highest origin seq applied from each source (the de-duplication watermark).
 */
export interface ShardLedger {
  /** Record ownership of `shard` under `epoch`, starting from the stored watermarks. */
  acquire(shard: number, epoch: number, watermarks: Readonly<Record<string, number>>): void;
  /** Forget `shard`. */
  release(shard: number): void;
  owns(shard: number): boolean;
  epochOf(shard: number): number | undefined;
  /** Shards owned, ascending. */
  owned(): number[];
  /** True when `seq` from `sourceId` is above the shard's watermark (not applied yet). */
  isNew(shard: number, sourceId: string, seq: number): boolean;
  /** Raise the shard's watermark for `sourceId` to `seq`. */
  advance(shard: number, sourceId: string, seq: number): void;
  /** The shard's watermarks as a plain object. */
  watermarksOf(shard: number): Record<string, number>;
}

/** Creates an empty {@link ShardLedger}. */
export function createShardLedger(): ShardLedger {
  const epochs = new Map<number, number>();
  const marks = new Map<number, Map<string, number>>();
  return {
    acquire(shard, epoch, watermarks) {
      epochs.set(shard, epoch);
      marks.set(shard, new Map(Object.entries(watermarks)));
    },
    release(shard) {
      epochs.delete(shard);
      marks.delete(shard);
    },
    owns: (shard) => epochs.has(shard),
    epochOf: (shard) => epochs.get(shard),
    owned: () => [...epochs.keys()].sort((a, b) => a - b),
    isNew(shard, sourceId, seq) {
      const mark = marks.get(shard)?.get(sourceId);
      return mark === undefined || seq > mark;
    },
    advance(shard, sourceId, seq) {
      let shardMarks = marks.get(shard);
      if (!shardMarks) {
        shardMarks = new Map();
        marks.set(shard, shardMarks);
      }
      if ((shardMarks.get(sourceId) ?? 0) < seq) shardMarks.set(sourceId, seq);
    },
    watermarksOf: (shard) => Object.fromEntries(marks.get(shard) ?? []),
  };
}
