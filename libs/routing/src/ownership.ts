/**
 * Shard ownership tables and what changes between two of them.
 */

/** Who owns each shard: `owners[shard]` is an index into `members`, or -1 when nobody does. */
export interface ShardOwnership {
  /** Member ids, in the order the table's indexes refer to. */
  readonly members: readonly string[];
  /** One entry per shard. */
  readonly owners: Int32Array;
}

/** Shards that changed hands between the same two members (`undefined` = nobody). */
export interface ShardMove {
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** Ascending shard numbers. */
  readonly shards: number[];
}

/**
 * The shards whose owner differs between two tables, grouped by (from, to) pair. Members are
 * compared by id, so the two tables may index different member lists.
 * @returns the moves in order of their first shard.
 */
export function diffOwnership(before: ShardOwnership, after: ShardOwnership): ShardMove[] {
  const count = Math.max(before.owners.length, after.owners.length);
  const groups = new Map<string, { from: string | undefined; to: string | undefined; shards: number[] }>();
  for (let s = 0; s < count; s++) {
    const from = memberAt(before, s);
    const to = memberAt(after, s);
    if (from === to) continue;
    const key = `${from ?? ""}\u0000${to ?? ""}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { from, to, shards: [] };
      groups.set(key, group);
    }
    group.shards.push(s);
  }
  return [...groups.values()];
}

function memberAt(table: ShardOwnership, shard: number): string | undefined {
  const index = table.owners[shard];
  return index === undefined || index < 0 ? undefined : table.members[index];
}

/** The number of moved shards in a list of moves. */
export function movedShardCount(moves: readonly ShardMove[]): number {
  let total = 0;
  for (const move of moves) total += move.shards.length;
  return total;
}

/** Shards owned per member (index-aligned with `members`). */
export function shardsPerMember(table: ShardOwnership): Uint32Array {
  const counts = new Uint32Array(table.members.length);
  for (const owner of table.owners) if (owner >= 0) counts[owner] = (counts[owner] as number) + 1;
  return counts;
}

/** Sorted, de-duplicated member ids. */
export function sortMemberIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
