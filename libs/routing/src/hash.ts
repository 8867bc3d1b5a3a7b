import { ShardedPolicy, type ShardedSettings } from "./sharded.js";

/**
 * The owner table of the `hash` policy: shard `s` goes to member `s mod N` of the members sorted
 * by id. Even to within one shard, but a change of N moves almost every shard.
 */
export function moduloOwners(members: readonly string[], shardCount: number): Int32Array {
  const owners = new Int32Array(shardCount);
  const n = members.length;
  if (n === 0) return owners.fill(-1);
  for (let s = 0; s < shardCount; s++) owners[s] = s % n;
  return owners;
}

class HashPolicy extends ShardedPolicy {
  protected buildOwners(members: readonly string[]): Int32Array {
    return moduloOwners(members, this.shardCount);
  }
}

/**
 * The `hash` policy: a row goes to the member at `shard mod N` (members sorted by id), where
 * `shard` is the key hash of the hash fields mod S. Cheap and even, but not consistent: use it
 * when membership rarely changes.
 */
export function createHashPolicy(settings: ShardedSettings): ShardedPolicy {
  return new HashPolicy("hash", settings);
}
