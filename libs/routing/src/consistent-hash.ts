import { MeshError } from "@espmesh/telemetry";
import { createWeightCache, rendezvousOrder, rendezvousOwners, type WeightCache } from "./rendezvous.js";
import { ShardedPolicy, type ShardedSettings } from "./sharded.js";
import type { RouteOptions } from "./types.js";

/** Settings of the `consistent-hash` policy. */
export interface ConsistentHashSettings extends ShardedSettings {
  /**
   * Bounded load, for stateless sources only: a member whose load (the caller's `loads` plus the
   * rows given to it so far in this batch) would exceed `boundedLoad × mean` gives the row to the
   * next member in the shard's preference order. Undefined = off.
   */
  readonly boundedLoad: number | undefined;
}

class ConsistentHashPolicy extends ShardedPolicy {
  private readonly cache: WeightCache;
  private weights: Float64Array[] = [];
  private readonly preference = new Map<number, Int32Array>();
  private assigned = new Float64Array(0);

  constructor(private readonly chSettings: ConsistentHashSettings) {
    super("consistent-hash", chSettings);
    this.cache = createWeightCache(chSettings.shardCount);
  }

  protected buildOwners(members: readonly string[]): Int32Array {
    this.weights = this.cache.weightsOf(members);
    this.preference.clear();
    this.assigned = new Float64Array(members.length);
    return rendezvousOwners(members, this.weights, this.shardCount);
  }

  protected override adjustTargets(
    shards: Uint32Array,
    targets: Int32Array,
    count: number,
    options: RouteOptions,
  ): void {
    const factor = this.chSettings.boundedLoad;
    const n = this.members.length;
    if (factor === undefined || n < 2) return;
    const loads = options.loads;
    if (loads === undefined || loads.length < n) {
      throw new MeshError("INVALID_ARGUMENT", "bounded-load routing needs `loads`, one per member");
    }
    let total = count;
    for (let m = 0; m < n; m++) total += loads[m] as number;
    const cap = Math.ceil((factor * total) / n);
    const assigned = this.assigned;
    for (let m = 0; m < n; m++) assigned[m] = loads[m] as number;
    for (let r = 0; r < count; r++) {
      let target = targets[r] as number;
      if ((assigned[target] as number) + 1 > cap) {
        for (const candidate of this.preferenceOf(shards[r] as number)) {
          if ((assigned[candidate] as number) + 1 <= cap) {
            target = candidate;
            break;
          }
        }
        targets[r] = target;
      }
      assigned[target] = (assigned[target] as number) + 1;
    }
  }

  private preferenceOf(shard: number): Int32Array {
    let order = this.preference.get(shard);
    if (order === undefined) {
      order = rendezvousOrder(this.members, this.weights, shard);
      this.preference.set(shard, order);
    }
    return order;
  }
}

/**
 * The `consistent-hash` policy: S fixed shards, each owned by the member with the highest
 * rank-normalised rendezvous weight (see `rendezvous.ts`), keyed by stable member ids. Adding a
 * member moves about S/(N+1) shards, all to it; removing one moves only its shards. With
 * `boundedLoad` (stateless sources), rows spill from an overloaded owner to the shard's next
 * preferred member.
 */
export function createConsistentHashPolicy(settings: ConsistentHashSettings): ShardedPolicy {
  return new ConsistentHashPolicy(settings);
}
