import type { Batch } from "@espmesh/events";
import type { ShardMove, ShardOwnership } from "./ownership.js";

/** The routing policies a source window can use (DESIGN §5.1). */
export type RoutingPolicyName = "round-robin" | "multicast" | "hash" | "consistent-hash";

/** Every routing policy name. */
export const ROUTING_POLICY_NAMES: readonly RoutingPolicyName[] = [
  "round-robin",
  "multicast",
  "hash",
  "consistent-hash",
];

/** The rows of a batch that go to one target. */
export interface RowSelection {
  /**
   * Who gets the rows: an index into the policy's `members`, or, when the caller routed with its
   * own `owners` table, the value that table holds for the rows' shard.
   */
  readonly target: number;
  /** Row indexes into the batch, ascending; exactly `count` long. */
  readonly rows: Uint32Array;
  readonly count: number;
  /** The selection is every row of the batch in order: send the batch as it is, copy nothing. */
  readonly whole: boolean;
}

/** A batch split by a policy. */
export interface RouteResult {
  /** One entry per target that gets rows; targets without rows are left out. */
  readonly selections: RowSelection[];
  /**
   * Rows nobody can take now (their shard's owner is -1, or there are no members); `target` is -1.
   * The caller keeps them until ownership settles.
   */
  readonly held: RowSelection | undefined;
}

/**
 * What `route` reads of a batch: sharded policies hash its columns (unless given the shards),
 * round-robin and multicast only count its rows, so they accept `{ length }` alone.
 */
export type RoutableBatch = Batch | { readonly length: number; readonly columns?: undefined };

/** Per-call options of {@link RoutingPolicy.route}. */
export interface RouteOptions {
  /**
   * Route only these rows of the batch (ascending); selections then hold a subset of them.
   * @default every row
   */
  rows?: Uint32Array;
  /** Per-row shards of the whole batch from {@link RoutingPolicy.shardsOf}, so they are not hashed twice. */
  shards?: Uint32Array;
  /**
   * An owner table to route by instead of the policy's own (sharded policies): the caller's
   * current view during a hand-off, -1 = hold the shard's rows. Values become `target`s.
   */
  owners?: Int32Array;
  /**
   * Current load of each member (e.g. events in flight), index-aligned with `members`; used by
   * the bounded-load option only.
   */
  loads?: ArrayLike<number>;
}

/**
 * A routing policy: which member each row of a batch goes to. Pure: it knows the member ids it
 * was given and nothing else; one implementation per file, made by `createRoutingPolicy`.
 */
export interface RoutingPolicy {
  readonly name: RoutingPolicyName;
  /** Rows are placed by shard (`hash`, `consistent-hash`): `owners` and `shardsOf` apply. */
  readonly sharded: boolean;
  /** The fixed shard count S. */
  readonly shardCount: number;
  /** Current member ids, sorted. */
  readonly members: readonly string[];
  /** Sharded policies: shard → index into `members` (-1 when there are none); else undefined. */
  readonly owners: Int32Array | undefined;
  /**
   * Replaces the members (de-duplicated and sorted) and rebuilds the shard table.
   * @returns the shards that changed owner (always empty for unsharded policies).
   */
  setMembers(ids: Iterable<string>): ShardMove[];
  /** The current ownership as a table (sharded policies; unsharded ones own nothing). */
  ownership(): ShardOwnership;
  /**
   * The shard of every row: the key hash of the policy's hash fields mod S.
   * @param out reused when long enough.
   * @throws MeshError FAILED_PRECONDITION for unsharded policies.
   */
  shardsOf(batch: Batch, out?: Uint32Array): Uint32Array;
  /** Splits a batch into per-target row selections (columns are not touched). */
  route(batch: RoutableBatch, options?: RouteOptions): RouteResult;
}
