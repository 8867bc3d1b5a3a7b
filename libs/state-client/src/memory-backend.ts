/**
 * The `memory` StateBackend: the same semantics as the state service (fencing, all-or-nothing
 * commits, monotonic watermarks, NOT_FOUND for unknown deployments, size limit) held in process
 * memory, for the embedded mode and unit tests. Backends that share a {@link MemoryStateStore}
 * see each other's state, like workers sharing one state service.
 */
import { MeshError } from "@espmesh/telemetry";
import {
  checkEpoch,
  checkOwner,
  checkScopeName,
  checkShards,
  DEFAULT_MAX_COMMIT_BYTES,
  type NormalizedShardCommit,
  normalizeCommit,
} from "./normalize.js";
import { commitTooLarge, deploymentNotFound, type FencedOperation, fencedError, isAllowed } from "./state-errors.js";
import type { CommitRequest, CommitResult, ShardCheckpoint, StateBackend, StateCallOptions } from "./types.js";

interface ShardRecord {
  epoch: number;
  owner: string;
  windows: Map<string, Uint8Array>;
  watermarks: Map<string, number>;
}

/** Shard state of every deployment held by memory backends; share one to share state. */
export class MemoryStateStore {
  /** @internal Shards by deployment key. */
  readonly deployments = new Map<string, Map<number, ShardRecord>>();

  /** How many deployments are known. */
  get size(): number {
    return this.deployments.size;
  }
}

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions {
  /** The project the backend is scoped to. */
  project: string;
  /** The deployment the backend is scoped to. */
  deployment: string;
  /** The store to keep state in. @default a new private store */
  store?: MemoryStateStore;
  /** Size limit of the window state of one commit, in bytes. @default 67108864 (64 MiB) */
  maxCommitBytes?: number;
}

/** {@link MemoryBackendOptions}, defaulted and validated. */
export interface CompiledMemoryBackendOptions {
  readonly project: string;
  readonly deployment: string;
  readonly store: MemoryStateStore;
  readonly maxCommitBytes: number;
}

/** Defaults and validates {@link MemoryBackendOptions}. */
export function compileMemoryBackendOptions(options: MemoryBackendOptions): CompiledMemoryBackendOptions {
  const maxCommitBytes = options.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES;
  if (!Number.isSafeInteger(maxCommitBytes) || maxCommitBytes <= 0) {
    throw new MeshError("INVALID_ARGUMENT", `maxCommitBytes must be a positive integer, got ${maxCommitBytes}`);
  }
  return {
    project: checkScopeName("project", options.project),
    deployment: checkScopeName("deployment", options.deployment),
    store: options.store ?? new MemoryStateStore(),
    maxCommitBytes,
  };
}

function checkSignal(options: StateCallOptions | undefined): void {
  if (options?.signal?.aborted) throw new MeshError("CANCELLED", "the state call was aborted");
}

function checkpointOf(shard: number, record: ShardRecord | undefined): ShardCheckpoint {
  const windows = new Map<string, Uint8Array>();
  for (const [window, blob] of record?.windows ?? []) windows.set(window, blob.slice());
  return {
    shard,
    windows,
    watermarks: new Map(record?.watermarks ?? []),
    epoch: record?.epoch ?? 0,
    owner: record?.owner ?? "",
  };
}

function applyShard(record: ShardRecord, commit: NormalizedShardCommit): void {
  if (commit.deleteShard) {
    record.windows.clear();
    record.watermarks.clear();
  }
  for (const window of commit.deletedWindows) record.windows.delete(window);
  for (const [window, blob] of commit.windows) record.windows.set(window, blob.slice());
  for (const [source, seq] of commit.watermarks) {
    if (seq > (record.watermarks.get(source) ?? -1)) record.watermarks.set(source, seq);
  }
}

class MemoryBackend implements StateBackend {
  readonly kind = "memory";
  readonly project: string;
  readonly deployment: string;
  readonly #options: CompiledMemoryBackendOptions;
  readonly #key: string;

  constructor(options: CompiledMemoryBackendOptions) {
    this.#options = options;
    this.project = options.project;
    this.deployment = options.deployment;
    this.#key = JSON.stringify([options.project, options.deployment]);
  }

  #shards(): Map<number, ShardRecord> {
    const shards = this.#options.store.deployments.get(this.#key);
    if (!shards) throw deploymentNotFound(this);
    return shards;
  }

  #checkFence(
    operation: FencedOperation,
    shards: Map<number, ShardRecord>,
    list: readonly number[],
    owner: string,
    epoch: number,
  ): void {
    for (const shard of list) {
      const stored = shards.get(shard);
      if (!isAllowed(operation, stored, owner, epoch) && stored) {
        throw fencedError(operation, this, shard, stored, owner, epoch);
      }
    }
  }

  async acquire(
    shards: readonly number[],
    owner: string,
    epoch: number,
    options?: StateCallOptions,
  ): Promise<ShardCheckpoint[]> {
    checkSignal(options);
    checkShards(shards);
    checkOwner(owner);
    checkEpoch(epoch);
    const store = this.#options.store.deployments;
    const records = store.get(this.#key) ?? new Map<number, ShardRecord>();
    this.#checkFence("acquire", records, shards, owner, epoch);
    store.set(this.#key, records);
    return shards.map((shard) => {
      const record = records.get(shard) ?? { epoch, owner, windows: new Map(), watermarks: new Map() };
      record.epoch = epoch;
      record.owner = owner;
      records.set(shard, record);
      return checkpointOf(shard, record);
    });
  }

  async commit(request: CommitRequest, options?: StateCallOptions): Promise<CommitResult> {
    checkSignal(options);
    const commit = normalizeCommit(request);
    if (commit.bytes > this.#options.maxCommitBytes) {
      throw commitTooLarge(this, commit.bytes, this.#options.maxCommitBytes);
    }
    const records = this.#shards();
    this.#checkFence(
      "commit",
      records,
      commit.shards.map((shard) => shard.shard),
      commit.owner,
      commit.epoch,
    );
    for (const shard of commit.shards) {
      const record = records.get(shard.shard) ?? {
        epoch: commit.epoch,
        owner: commit.owner,
        windows: new Map(),
        watermarks: new Map(),
      };
      applyShard(record, shard);
      record.epoch = commit.epoch;
      record.owner = commit.owner;
      records.set(shard.shard, record);
    }
    return { shards: commit.shards.length, bytes: commit.bytes };
  }

  async load(shards: readonly number[], options?: StateCallOptions): Promise<ShardCheckpoint[]> {
    checkSignal(options);
    checkShards(shards);
    const records = this.#shards();
    return shards.map((shard) => checkpointOf(shard, records.get(shard)));
  }

  async release(shards: readonly number[], owner: string, epoch: number, options?: StateCallOptions): Promise<void> {
    checkSignal(options);
    checkShards(shards);
    checkOwner(owner);
    checkEpoch(epoch);
    const records = this.#shards();
    this.#checkFence("release", records, shards, owner, epoch);
    for (const shard of shards) {
      const record = records.get(shard);
      if (!record) continue;
      record.epoch = Math.max(record.epoch, epoch);
      record.owner = "";
    }
  }

  async dropDeployment(options?: StateCallOptions): Promise<void> {
    checkSignal(options);
    this.#shards();
    this.#options.store.deployments.delete(this.#key);
  }

  async close(): Promise<void> {}
}

/** A `memory` StateBackend scoped to one deployment of one project. */
export function createMemoryBackend(options: MemoryBackendOptions): StateBackend {
  return new MemoryBackend(compileMemoryBackendOptions(options));
}
