/**
 * @packageDocumentation
 * The espmesh balancer (DESIGN §5): takes published batches, splits them by each source window's
 * routing policy over the workers, keeps every sub-batch until its worker committed it, acks each
 * origin after every worker it reached committed it, hands shards over when membership changes
 * (only moved shards pause), re-sends a lost worker's uncommitted batches, and merges the workers'
 * output streams and snapshots.
 */
export * from "./balancer.js";
export type { InputLag } from "./input-bindings.js";
export * from "./options.js";
