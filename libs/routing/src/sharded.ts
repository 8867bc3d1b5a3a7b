import { type Batch, hashRows } from "@espmesh/events";
import { uint32s } from "@espmesh/events/internal";
import { MeshError } from "@espmesh/telemetry";
import { diffOwnership, type ShardMove, type ShardOwnership, sortMemberIds } from "./ownership.js";
import { selectionsOfSubset, splitByTarget } from "./split.js";
import type { RoutableBatch, RouteOptions, RouteResult, RoutingPolicy, RoutingPolicyName } from "./types.js";

/** What the sharded policies share: S, the hash fields, and scratch space. */
export interface ShardedSettings {
  readonly shardCount: number;
  /** Indexes of the fields whose key hash places a row. */
  readonly hashFields: readonly number[];
}

/**
 * The shard of every row of a batch: `hashRows(batch, hashFields) mod S`, the same function as
 * `shardOf` of `@espmesh/events`, so the balancer and the engine agree on a row's shard.
 */
export function shardsOfBatch(batch: Batch, settings: ShardedSettings, out?: Uint32Array): Uint32Array {
  return shardsOfHashes(hashRows(batch, settings.hashFields, out), settings.shardCount);
}

/** Turns key hashes into shards (`hash mod shardCount`) in place and returns them. */
export function shardsOfHashes(shards: Uint32Array, shardCount: number): Uint32Array {
  const s = shardCount;
  if ((s & (s - 1)) === 0) {
    const mask = s - 1;
    for (let r = 0; r < shards.length; r++) shards[r] = (shards[r] as number) & mask;
  } else {
    for (let r = 0; r < shards.length; r++) shards[r] = (shards[r] as number) % s;
  }
  return shards;
}

/**
 * The common body of `hash` and `consistent-hash`: a member list, an owner table rebuilt by
 * `buildOwners` on every change, and routing by shard; `adjustTargets` lets a policy move rows
 * off their shard's owner (bounded load).
 */
export abstract class ShardedPolicy implements RoutingPolicy {
  readonly sharded = true;
  readonly shardCount: number;
  members: readonly string[] = [];
  owners: Int32Array;
  private targetScratch = new Int32Array(0);
  private shardScratch = new Uint32Array(0);

  constructor(
    readonly name: RoutingPolicyName,
    private readonly settings: ShardedSettings,
  ) {
    this.shardCount = settings.shardCount;
    this.owners = new Int32Array(settings.shardCount).fill(-1);
  }

  setMembers(ids: Iterable<string>): ShardMove[] {
    const before = this.ownership();
    this.members = sortMemberIds(ids);
    this.owners = this.buildOwners(this.members);
    return diffOwnership(before, this.ownership());
  }

  /** The owner table of a sorted member list. */
  protected abstract buildOwners(members: readonly string[]): Int32Array;

  ownership(): ShardOwnership {
    return { members: this.members, owners: this.owners };
  }

  shardsOf(batch: Batch, out?: Uint32Array): Uint32Array {
    return shardsOfBatch(batch, this.settings, out);
  }

  route(batch: RoutableBatch, options: RouteOptions = {}): RouteResult {
    const length = batch.length;
    const rows = options.rows;
    const count = rows === undefined ? length : rows.length;
    let shards = options.shards;
    if (shards === undefined) {
      if (batch.columns === undefined) {
        throw new MeshError("INVALID_ARGUMENT", `the ${this.name} policy needs the batch's columns or its shards`);
      }
      if (this.shardScratch.length < length) this.shardScratch = new Uint32Array(Math.max(length, 1024));
      shards = this.shardsOf(batch, this.shardScratch);
    } else if (shards.length < length) {
      throw new MeshError("INVALID_ARGUMENT", `route got ${shards.length} shards for a batch of ${length} rows`);
    }
    if (rows !== undefined) {
      const gathered = uint32s(count);
      for (let i = 0; i < count; i++) gathered[i] = shards[rows[i] as number] as number;
      shards = gathered;
    }
    const owners = options.owners ?? this.owners;
    if (this.targetScratch.length < count) this.targetScratch = new Int32Array(Math.max(count, 1024));
    const targets = this.targetScratch;
    let targetCount = 0;
    for (let r = 0; r < count; r++) {
      const owner = owners[shards[r] as number] as number;
      targets[r] = owner;
      if (owner >= targetCount) targetCount = owner + 1;
    }
    if (options.owners === undefined) this.adjustTargets(shards, targets, count, options);
    const result = splitByTarget(targets, count, options.owners === undefined ? this.members.length : targetCount);
    return rows === undefined ? result : selectionsOfSubset(result, rows, length);
  }

  /** Lets a policy move rows off their shard owner (bounded load); the default keeps them. */
  protected adjustTargets(_shards: Uint32Array, _targets: Int32Array, _count: number, _options: RouteOptions): void {}
}
