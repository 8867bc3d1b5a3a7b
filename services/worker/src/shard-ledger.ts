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
  /**
   * The rows of a batch from origin (`sourceId`, `seq`) not applied yet, given each row's shard: a
   * row is new when its shard is not owned here or the origin is above the shard's watermark.
   * @returns undefined when every row is new (the common case), else the new rows' indexes.
   */
  newRows(shards: Uint32Array, sourceId: string, seq: number): Uint32Array | undefined;
  /**
   * Raise the watermark for `sourceId` to `seq` on every owned shard of `shards` (shards not
   * owned are skipped). Shards whose watermark moved are kept for {@link takeAdvanced}.
   */
  advance(shards: Uint32Array, sourceId: string, seq: number): void;
  /** Owned shards whose watermark moved since the last call (each once), and forgets them. */
  takeAdvanced(): number[];
  /** The shard's watermarks as a plain object. */
  watermarksOf(shard: number): Record<string, number>;
}

/** No watermark (origin seqs start at 1, stored watermarks are ≥ 0). */
const NONE = -1;

/**
 * Creates an empty {@link ShardLedger}. Shards index typed arrays (ownership, epochs, one
 * watermark array per source, and a moved flag), so the per-row checks of a batch are array reads
 * in one loop, not lookups in nested maps or a call per row.
 */
export function createShardLedger(): ShardLedger {
  let owned = new Uint8Array(0);
  let epochs = new Float64Array(0);
  let count = 0;
  // Shards whose watermark moved since takeAdvanced: a flag per shard and the list, in move order.
  let moved = new Uint8Array(0);
  let advanced: number[] = [];
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
        const grownMoved = new Uint8Array(size);
        grownMoved.set(moved);
        moved = grownMoved;
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
    newRows(shards, sourceId, seq) {
      const array = sourceId === lastSource ? lastMarks : marks.get(sourceId);
      if (array === undefined) return undefined;
      let rows: Uint32Array | undefined;
      let kept = 0;
      for (let row = 0; row < shards.length; row++) {
        const shard = shards[row] as number;
        // A shard beyond the marks has none; a released shard's mark is NONE.
        const mark = shard < array.length && owned[shard] === 1 ? (array[shard] as number) : NONE;
        if (mark === NONE || seq > mark) {
          if (rows !== undefined) rows[kept] = row;
          kept++;
        } else if (rows === undefined) {
          rows = new Uint32Array(shards.length);
          for (let i = 0; i < row; i++) rows[i] = i;
        }
      }
      return rows?.subarray(0, kept);
    },
    advance(shards, sourceId, seq) {
      let array: Float64Array | undefined;
      for (let row = 0; row < shards.length; row++) {
        const shard = shards[row] as number;
        if (shard >= owned.length || owned[shard] !== 1) continue;
        if (array === undefined || shard >= array.length) array = marksOf(sourceId, shard);
        const mark = array[shard] as number;
        if (mark !== NONE && mark >= seq) continue;
        array[shard] = seq;
        if (moved[shard] === 0) {
          moved[shard] = 1;
          advanced.push(shard);
        }
      }
    },
    takeAdvanced() {
      const shards = advanced.filter((shard) => owned[shard] === 1);
      for (const shard of advanced) moved[shard] = 0;
      advanced = [];
      return shards;
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
