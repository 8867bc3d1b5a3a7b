/**
 * The plain-TypeScript face of shard state: what a worker reads back when it takes a shard and
 * what it writes at every checkpoint. Protobuf messages stay behind the `service` backend.
 */

/** The last committed state of one shard. */
export interface ShardCheckpoint {
  /** Shard number (0 ≤ shard < 2^32). */
  readonly shard: number;
  /** Serialized state by window name (each blob is the caller's to keep). */
  readonly windows: ReadonlyMap<string, Uint8Array>;
  /** Highest origin seq applied to this shard, by source id. */
  readonly watermarks: ReadonlyMap<string, number>;
  /** The fencing epoch stored for the shard; 0 when it was never acquired. */
  readonly epoch: number;
  /** The owner that holds the shard; "" when it was released or never acquired. */
  readonly owner: string;
}

/** A map given either as a `Map` or as a plain record. */
export type MapLike<V> = ReadonlyMap<string, V> | Readonly<Record<string, V>>;

/**
 * What one commit writes for one shard. Applied in this order: `deleteShard`, `deletedWindows`,
 * `windows`, `watermarks`.
 */
export interface ShardCommit {
  /** Shard number. */
  readonly shard: number;
  /** Window blobs to store, replacing the stored ones of the same windows. */
  readonly windows?: MapLike<Uint8Array>;
  /** Watermarks to raise by source id; a value at or below the stored one is ignored. */
  readonly watermarks?: MapLike<number>;
  /** Windows whose stored state is removed. */
  readonly deletedWindows?: readonly string[];
  /** Remove the shard's windows and watermarks before anything else of this commit. */
  readonly deleteShard?: boolean;
}

/** One atomic commit over several shards of one owner. */
export interface CommitRequest {
  /** The committing owner (a worker's stable id). */
  readonly owner: string;
  /** The owner's fencing epoch; a shard stored at a newer epoch rejects the whole commit. */
  readonly epoch: number;
  /** The shards to write; each shard at most once. */
  readonly shards: readonly ShardCommit[];
}

/** What a commit wrote. */
export interface CommitResult {
  /** Shards written. */
  readonly shards: number;
  /** Bytes of window state written. */
  readonly bytes: number;
}

/** Per-call options of a {@link StateBackend}. */
export interface StateCallOptions {
  /** Aborts the call (and its retries). */
  readonly signal?: AbortSignal;
}

/** The kinds of {@link StateBackend} the registry can create. */
export type StateBackendKind = "memory" | "service";

/**
 * Shard checkpoints of one deployment of one project, fenced by owner epochs. Every failure is a
 * `MeshError`:
 * - `FAILED_PRECONDITION` when a shard is held at a newer epoch (or by another owner at the same
 *   epoch); the message names the shard and both epochs, nothing of the call is written;
 * - `NOT_FOUND` when the deployment is unknown (no shard of it was ever acquired, or it was dropped);
 * - `RESOURCE_EXHAUSTED` when a commit's window state exceeds the size limit;
 * - `UNAVAILABLE` when the store cannot be reached (nothing of the call is written, retry later);
 * - `INVALID_ARGUMENT` for malformed input (bad shard numbers, empty owner, duplicate shards...).
 *
 * A deployment becomes known by its first `acquire` (of any number of shards, even none).
 */
export interface StateBackend {
  /** Which implementation this is. */
  readonly kind: StateBackendKind;
  /** The project this backend is scoped to. */
  readonly project: string;
  /** The deployment this backend is scoped to. */
  readonly deployment: string;
  /**
   * Takes ownership of `shards` at `epoch` and returns their last checkpoints, in request order.
   * Re-acquiring at the same epoch by the same owner is allowed (a safe retry).
   */
  acquire(
    shards: readonly number[],
    owner: string,
    epoch: number,
    options?: StateCallOptions,
  ): Promise<ShardCheckpoint[]>;
  /**
   * Writes window state and raises watermarks of several shards, all or nothing. A shard the
   * commit touches takes the commit's owner and epoch. Retrying a commit is safe (the `service`
   * backend retries UNAVAILABLE by itself) as long as an owner has at most one commit in flight
   * per shard: a retried older commit would otherwise replace a newer one's window blobs.
   */
  commit(request: CommitRequest, options?: StateCallOptions): Promise<CommitResult>;
  /** Reads checkpoints without taking ownership, in request order. */
  load(shards: readonly number[], options?: StateCallOptions): Promise<ShardCheckpoint[]>;
  /** Gives up ownership of shards; their state and epoch stay. */
  release(shards: readonly number[], owner: string, epoch: number, options?: StateCallOptions): Promise<void>;
  /** Removes every stored key of the deployment; it is unknown afterwards. */
  dropDeployment(options?: StateCallOptions): Promise<void>;
  /** Releases the backend's resources (a gRPC channel). Idempotent. */
  close(): Promise<void>;
}
