/**
 * Validation of backend input and its one normalized form, shared by the memory backend, the
 * service client (to fail early) and the state service (which never trusts the wire).
 */
import { MeshError } from "@espmesh/telemetry";
import type { CommitRequest, MapLike, ShardCommit } from "./types.js";

/** Default size limit of the window state of one commit: 64 MiB. */
export const DEFAULT_MAX_COMMIT_BYTES = 64 * 1024 * 1024;

const MAX_SHARD = 0xffff_ffff;

/** One shard of a commit, validated. */
export interface NormalizedShardCommit {
  readonly shard: number;
  readonly deleteShard: boolean;
  readonly deletedWindows: readonly string[];
  readonly windows: ReadonlyArray<readonly [string, Uint8Array]>;
  /** At most one entry per source id (the highest given). */
  readonly watermarks: ReadonlyArray<readonly [string, number]>;
}

/** A commit, validated, with the byte count of its window state. */
export interface NormalizedCommit {
  readonly owner: string;
  readonly epoch: number;
  readonly shards: readonly NormalizedShardCommit[];
  readonly bytes: number;
}

function invalid(message: string, details: Record<string, unknown> = {}): MeshError {
  return new MeshError("INVALID_ARGUMENT", message, { details });
}

/** Checks a project or deployment name (non-empty). */
export function checkScopeName(kind: "project" | "deployment", name: string): string {
  if (typeof name !== "string" || name.length === 0) throw invalid(`${kind} must be a non-empty string`);
  return name;
}

/** Checks an owner id (non-empty). */
export function checkOwner(owner: string): string {
  if (typeof owner !== "string" || owner.length === 0) throw invalid("owner must be a non-empty string");
  return owner;
}

/** Checks an epoch: an integer in [0, 2^53). */
export function checkEpoch(epoch: number): number {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw invalid(`epoch must be a non-negative safe integer, got ${String(epoch)}`, { epoch: String(epoch) });
  }
  return epoch;
}

/** Checks a list of shard numbers: integers in [0, 2^32), no duplicates. */
export function checkShards(shards: readonly number[]): readonly number[] {
  const seen = new Set<number>();
  for (const [row, shard] of shards.entries()) {
    if (!Number.isInteger(shard) || shard < 0 || shard > MAX_SHARD) {
      throw invalid(`shard must be an integer in [0, ${MAX_SHARD}], got ${String(shard)}`, { row, shard });
    }
    if (seen.has(shard)) throw invalid(`shard ${shard} is listed twice`, { row, shard });
    seen.add(shard);
  }
  return shards;
}

/** The entries of a Map or a plain record. */
export function entriesOf<V>(map: MapLike<V> | undefined): Array<[string, V]> {
  if (map === undefined) return [];
  if (map instanceof Map) return [...(map as ReadonlyMap<string, V>).entries()];
  return Object.entries(map as Readonly<Record<string, V>>);
}

/** A commit in normalized shape but not validated yet (what the wire decoder produces). */
export interface UncheckedCommit {
  readonly owner: string;
  readonly epoch: number;
  readonly shards: readonly NormalizedShardCommit[];
}

/** Watermarks with one entry per source (the highest seq). */
function dedupeWatermarks(marks: ReadonlyArray<readonly [string, number]>): ReadonlyArray<readonly [string, number]> {
  const highest = new Map<string, number>();
  for (const [source, seq] of marks) highest.set(source, Math.max(seq, highest.get(source) ?? 0));
  return highest.size === marks.length ? marks : [...highest.entries()];
}

function validateShard(shard: NormalizedShardCommit, row: number): NormalizedShardCommit {
  for (const [window, blob] of shard.windows) {
    if (typeof window !== "string" || window.length === 0) {
      throw invalid(`shard ${shard.shard}: window names must be non-empty`, { row });
    }
    if (!(blob instanceof Uint8Array)) {
      throw invalid(`shard ${shard.shard}: state of window ${window} must be a Uint8Array`, { row, window });
    }
  }
  for (const [source, seq] of shard.watermarks) {
    if (typeof source !== "string" || source.length === 0) {
      throw invalid(`shard ${shard.shard}: source ids must be non-empty`, { row });
    }
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw invalid(`shard ${shard.shard}: watermark of ${source} must be a non-negative safe integer`, {
        row,
        source,
      });
    }
  }
  for (const window of shard.deletedWindows) {
    if (typeof window !== "string" || window.length === 0) {
      throw invalid(`shard ${shard.shard}: deleted window names must be non-empty`, { row });
    }
  }
  if (shard.watermarks.length < 2) return shard;
  const watermarks = dedupeWatermarks(shard.watermarks);
  return watermarks === shard.watermarks ? shard : { ...shard, watermarks };
}

/**
 * Validates a commit in normalized shape: owner, epoch, shard numbers (no duplicates), names
 * and seqs; merges repeated watermarks of a source (highest wins); counts its bytes of window
 * state (no size limit applied here).
 */
export function validateCommit(commit: UncheckedCommit): NormalizedCommit {
  const owner = checkOwner(commit.owner);
  const epoch = checkEpoch(commit.epoch);
  const seen = new Set<number>();
  let bytes = 0;
  const shards = commit.shards.map((shard, row) => {
    const id = shard.shard;
    if (!Number.isInteger(id) || id < 0 || id > MAX_SHARD) {
      throw invalid(`shard must be an integer in [0, ${MAX_SHARD}], got ${String(id)}`, { row, shard: id });
    }
    if (seen.has(id)) throw invalid(`shard ${id} is listed twice`, { row, shard: id });
    seen.add(id);
    const valid = validateShard(shard, row);
    for (const [, blob] of valid.windows) bytes += blob.byteLength;
    return valid;
  });
  return { owner, epoch, shards, bytes };
}

/** A commit as given to a backend, validated, in normalized shape, with its bytes counted. */
export function normalizeCommit(request: CommitRequest): NormalizedCommit {
  return validateCommit({
    owner: request.owner,
    epoch: request.epoch,
    shards: request.shards.map((shard: ShardCommit) => ({
      shard: shard.shard,
      deleteShard: shard.deleteShard === true,
      deletedWindows: shard.deletedWindows ?? [],
      windows: entriesOf(shard.windows),
      watermarks: entriesOf(shard.watermarks),
    })),
  });
}
