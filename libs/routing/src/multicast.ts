import { routeWhole, wholeSelection } from "./split.js";
import type { RoutableBatch, RouteOptions, RouteResult } from "./types.js";
import { UnshardedPolicy } from "./unsharded.js";

class MulticastPolicy extends UnshardedPolicy {
  route(batch: RoutableBatch, options: RouteOptions = {}): RouteResult {
    const n = this.members.length;
    if (n === 0) return routeWhole(-1, batch.length, options.rows);
    const selections = [];
    for (let m = 0; m < n; m++) selections.push(wholeSelection(m, batch.length, options.rows));
    return { selections: selections[0]?.count === 0 ? [] : selections, held: undefined };
  }
}

/**
 * The `multicast` policy: every member gets every batch whole, e.g. a dimension table that a
 * join on every worker reads.
 */
export function createMulticastPolicy(shardCount: number): UnshardedPolicy {
  return new MulticastPolicy("multicast", shardCount);
}
