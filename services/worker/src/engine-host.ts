import type { Batch } from "@espmesh/events";

/** A rejected input event, as the worker reports it. */
export interface RejectedEvent {
  readonly window: string;
  readonly row: number;
  readonly field: string;
  readonly reason: string;
}

/** What applying one batch produced. */
export interface ApplyResult {
  /**
   * Output batches by window, in the order the engine produced them; with the shard of every
   * output row when the host was asked for them (`outputShards`, needed by output bindings).
   */
  readonly outputs: ReadonlyArray<readonly [window: string, batch: Batch, shards?: Uint32Array]>;
  /** Input events rejected (the batch's other events were applied). */
  readonly rejected: readonly RejectedEvent[];
}

/**
 * The engine as a worker drives it: the seam between the worker's protocol (shards, epochs,
 * commits) and `@espmesh/engine`. One implementation wraps the real engine (`engine-adapter.ts`).
 */
export interface EngineHost {
  /** Source windows that accept events. */
  readonly sourceWindows: readonly string[];
  /** The shard of every row of a batch bound for `window`, from its routing key. */
  shardsOf(window: string, batch: Batch): Uint32Array;
  /** Applies a batch to a source window (rows already de-duplicated). */
  apply(window: string, batch: Batch, shards: Uint32Array): ApplyResult;
  /** Lets time pass (retention, counters, pattern expiry). */
  advance(nowMicros: number): ApplyResult;
  /** Shards changed since the last `takeDirty`; clears the set. */
  takeDirty(): number[];
  /** The state of one shard, by window name (windows holding nothing for it are absent). */
  snapshot(shard: number): Map<string, Uint8Array>;
  /** Replaces the state of one shard with a checkpoint (an empty map clears it). */
  restore(shard: number, windows: ReadonlyMap<string, Uint8Array>): void;
  /** Forgets the state of one shard. */
  drop(shard: number): void;
  /** Whether every worker holds all of a window's rows and emits all its events (multicast-fed). */
  isReplicated(window: string): boolean;
  /** The current rows of a window, and whether every worker holds all of them (multicast-fed). */
  query(window: string): { rows: Batch; replicated: boolean };
}
