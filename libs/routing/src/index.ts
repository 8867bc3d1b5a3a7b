/**
 * @packageDocumentation
 * Routing policies of espmesh (DESIGN §5.1): which worker each row of a batch goes to.
 * `round-robin` and `multicast` send whole batches; `hash` and `consistent-hash` place rows by
 * shard (`key hash mod S`) and shards by member. Pure: no network, no clock.
 */
export * from "./consistent-hash.js";
export * from "./create-routing-policy.js";
export * from "./hash.js";
export * from "./multicast.js";
export * from "./ownership.js";
export * from "./rendezvous.js";
export * from "./round-robin.js";
export * from "./sharded.js";
export * from "./split.js";
export * from "./types.js";
export * from "./unsharded.js";
