import { routeWhole } from "./split.js";
import type { RoutableBatch, RouteOptions, RouteResult } from "./types.js";
import { UnshardedPolicy } from "./unsharded.js";

class RoundRobinPolicy extends UnshardedPolicy {
  private next = 0;

  route(batch: RoutableBatch, options: RouteOptions = {}): RouteResult {
    const n = this.members.length;
    if (n === 0) return routeWhole(-1, batch.length, options.rows);
    if (this.next >= n) this.next = 0;
    return routeWhole(this.next++, batch.length, options.rows);
  }
}

/**
 * The `round-robin` policy: each batch goes whole to the next member in id order. Batches, not
 * single events, rotate, so nothing is copied; it suits stateless sources.
 */
export function createRoundRobinPolicy(shardCount: number): UnshardedPolicy {
  return new RoundRobinPolicy("round-robin", shardCount);
}
