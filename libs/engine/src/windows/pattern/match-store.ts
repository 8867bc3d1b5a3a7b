import type { TableKey } from "../../runtime/values.js";
import type { PartialMatch } from "./pattern-machine.js";

/** Empty key lists are dropped in one sweep once there are this many (and more than live ones). */
const EMPTY_LISTS_BEFORE_PURGE = 1024;

/**
 * The live partial matches of one pattern, by key (the value of the pattern's key variable; one
 * key for a pattern without one), each list in creation order; and, for snapshots, by the shard
 * of the event that started them (an intrusive doubly linked list per shard, so adding and
 * removing allocate nothing).
 */
export class MatchStore {
  private readonly buckets = new Map<TableKey, PartialMatch[]>();
  /** First match of each shard's list, by shard (an array: shards are small integers). */
  private readonly heads: (PartialMatch | undefined)[] = [];
  private shardsHeld = 0;
  private count = 0;
  private emptyLists = 0;

  /** Number of live partial matches. */
  get size(): number {
    return this.count;
  }

  /** The matches of a key, oldest first (do not keep the list across calls that change the store). */
  bucket(key: TableKey): PartialMatch[] | undefined {
    return this.buckets.get(key);
  }

  /**
   * Adds a match in creation (`seq`) order. When its key already holds `cap` matches, the oldest
   * is removed and returned.
   */
  add(match: PartialMatch, cap: number): PartialMatch | undefined {
    let list = this.buckets.get(match.key);
    if (list === undefined) {
      list = [];
      this.buckets.set(match.key, list);
    } else if (list.length === 0) {
      this.emptyLists--;
    }
    let at = list.length;
    while (at > 0 && list[at - 1]!.seq > match.seq) at--;
    if (at === list.length) list.push(match);
    else list.splice(at, 0, match);
    this.link(match);
    if (list.length <= cap) return undefined;
    const evicted = list.shift()!;
    evicted.alive = false;
    this.unlink(evicted);
    return evicted;
  }

  private link(match: PartialMatch): void {
    const head = this.heads[match.shard];
    match.prev = undefined;
    match.next = head;
    if (head !== undefined) head.prev = match;
    else this.shardsHeld++;
    this.heads[match.shard] = match;
    match.listed = true;
    this.count++;
  }

  private unlink(match: PartialMatch): void {
    if (!match.listed) return;
    match.listed = false;
    this.count--;
    const { prev, next } = match;
    if (next !== undefined) next.prev = prev;
    if (prev !== undefined) prev.next = next;
    else {
      this.heads[match.shard] = next;
      if (next === undefined) this.shardsHeld--;
    }
    match.prev = undefined;
    match.next = undefined;
  }

  private emptied(): void {
    this.emptyLists++;
    if (this.emptyLists < EMPTY_LISTS_BEFORE_PURGE || this.emptyLists * 2 < this.buckets.size) return;
    for (const [key, list] of this.buckets) if (list.length === 0) this.buckets.delete(key);
    this.emptyLists = 0;
  }

  /** Removes a match (marked dead). */
  remove(match: PartialMatch): void {
    match.alive = false;
    this.unlink(match);
    const list = this.buckets.get(match.key);
    if (list === undefined) return;
    const index = list.indexOf(match);
    if (index < 0) return;
    for (let i = index + 1; i < list.length; i++) list[i - 1] = list[i]!;
    list.length--;
    if (list.length === 0) this.emptied();
  }

  /** Drops the matches of a key's list that the caller marked dead. */
  compact(list: PartialMatch[]): void {
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const match = list[i]!;
      if (match.alive) list[kept++] = match;
      else this.unlink(match);
    }
    if (kept === list.length) return;
    list.length = kept;
    if (kept === 0) this.emptied();
  }

  /** The matches started by events of a shard, in creation order. */
  ofShard(shard: number): PartialMatch[] {
    const matches: PartialMatch[] = [];
    for (let match = this.heads[shard]; match !== undefined; match = match.next) matches.push(match);
    return matches.sort((a, b) => a.seq - b.seq);
  }

  /** Removes every match of a shard (marked dead). */
  dropShard(shard: number): void {
    const matches = this.ofShard(shard);
    if (matches.length === 0) return;
    const lists = new Set<PartialMatch[]>();
    for (const match of matches) {
      match.alive = false;
      const list = this.buckets.get(match.key);
      if (list !== undefined) lists.add(list);
    }
    for (const list of lists) this.compact(list);
  }

  /** Shards holding matches. */
  *shards(): IterableIterator<number> {
    if (this.shardsHeld === 0) return;
    for (let shard = 0; shard < this.heads.length; shard++) if (this.heads[shard] !== undefined) yield shard;
  }
}
