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
  /**
   * Raise the shard's watermark for `sourceId` to `seq`.
   * @returns whether it moved (false when it already was at `seq` or above).
   */
  advance(shard: number, sourceId: string, seq: number): boolean;
  /** The shard's watermarks as a plain object. */
  watermarksOf(shard: number): Record<string, number>;
}

/** No watermark (origin seqs start at 1, stored watermarks are ≥ 0). */
const NONE = -1;

/**
 * Creates an empty {@link ShardLedger}. Shards index typed arrays (ownership, epochs, and one
 * watermark array per source), so the per-row checks of a batch are array reads, not lookups in
 * nested maps.
 */
export function createShardLedger(): ShardLedger {
  let owned = new Uint8Array(0);
  let epochs = new Float64Array(0);
  let count = 0;
  const marks = new Map<string, Float64Array>();
  // The source of the batch being applied, looked up once instead of once per row.
  let lastSource: string | undefined;
  let lastMarks: Float64Array | undefined;

  const fit = (array: Float64Array, shard: number): Float64Array => {
    if (shard < array.length) return array;
    const grown = new Float64Array(Math.max(shard + 1, array.length * 2, 1024)).fill(NONE);
    grown.set(array);
    return grown;
  };
  const marksOf = (sourceId: string, shard: number): Float64Array => {
    let array = sourceId === lastSource ? lastMarks : marks.get(sourceId);
    if (array === undefined || shard >= array.length) {
      array = fit(array ?? new Float64Array(0), shard);
      marks.set(sourceId, array);
    }
    lastSource = sourceId;
    lastMarks = array;
    return array;
  };
  const owns = (shard: number) => shard < owned.length && owned[shard] === 1;

  return {
    acquire(shard, epoch, watermarks) {
      if (shard >= owned.length) {
        const size = Math.max(shard + 1, owned.length * 2, 1024);
        const grownOwned = new Uint8Array(size);
        grownOwned.set(owned);
        owned = grownOwned;
        const grownEpochs = new Float64Array(size);
        grownEpochs.set(epochs);
        epochs = grownEpochs;
      }
      if (owned[shard] !== 1) count++;
      owned[shard] = 1;
      epochs[shard] = epoch;
      for (const array of marks.values()) if (shard < array.length) array[shard] = NONE;
      for (const [sourceId, seq] of Object.entries(watermarks)) marksOf(sourceId, shard)[shard] = seq;
    },
    release(shard) {
      if (!owns(shard)) return;
      owned[shard] = 0;
      count--;
      for (const array of marks.values()) if (shard < array.length) array[shard] = NONE;
    },
    owns,
    epochOf: (shard) => (owns(shard) ? epochs[shard] : undefined),
    owned() {
      const shards: number[] = [];
      for (let shard = 0; shard < owned.length && shards.length < count; shard++) {
        if (owned[shard] === 1) shards.push(shard);
      }
      return shards;
    },
    isNew(shard, sourceId, seq) {
      const array = sourceId === lastSource ? lastMarks : marks.get(sourceId);
      if (array === undefined || shard >= array.length) return true;
      const mark = array[shard] as number;
      return mark === NONE || seq > mark;
    },
    advance(shard, sourceId, seq) {
      const array = marksOf(sourceId, shard);
      const mark = array[shard] as number;
      if (mark !== NONE && mark >= seq) return false;
      array[shard] = seq;
      return true;
    },
    watermarksOf(shard) {
      const result: Record<string, number> = {};
      for (const [sourceId, array] of marks) {
        const mark = shard < array.length ? (array[shard] as number) : NONE;
        if (mark !== NONE) result[sourceId] = mark;
      }
      return result;
    },
  };
}
