import type { Batch } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { type ShardMove, type ShardOwnership, sortMemberIds } from "./ownership.js";
import type { RoutableBatch, RouteOptions, RouteResult, RoutingPolicy, RoutingPolicyName } from "./types.js";

/** The common body of `round-robin` and `multicast`: a member list and no shards. */
export abstract class UnshardedPolicy implements RoutingPolicy {
  readonly sharded = false;
  readonly owners = undefined;
  members: readonly string[] = [];

  constructor(
    readonly name: RoutingPolicyName,
    readonly shardCount: number,
  ) {}

  setMembers(ids: Iterable<string>): ShardMove[] {
    this.members = sortMemberIds(ids);
    return [];
  }

  ownership(): ShardOwnership {
    return { members: this.members, owners: new Int32Array(this.shardCount).fill(-1) };
  }

  shardsOf(_batch: Batch, _out?: Uint32Array): Uint32Array {
    throw new MeshError("FAILED_PRECONDITION", `the ${this.name} policy does not place rows by shard`);
  }

  abstract route(batch: RoutableBatch, options?: RouteOptions): RouteResult;
}
