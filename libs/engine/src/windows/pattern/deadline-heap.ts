import type { PartialMatch } from "./pattern-machine.js";

/**
 * A binary min-heap of partial matches by deadline (ties by creation order), in two parallel
 * arrays so that pushing and popping allocate nothing. Entries may be stale (the match ended or
 * its deadline moved); the reader checks.
 */
export class DeadlineHeap {
  private readonly at: number[] = [];
  private readonly items: PartialMatch[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(a: number, b: number): boolean {
    const x = this.at[a]!;
    const y = this.at[b]!;
    return x < y || (x === y && this.items[a]!.seq < this.items[b]!.seq);
  }

  private swap(a: number, b: number): void {
    const at = this.at[a]!;
    this.at[a] = this.at[b]!;
    this.at[b] = at;
    const item = this.items[a]!;
    this.items[a] = this.items[b]!;
    this.items[b] = item;
  }

  /** Adds a match due at `deadline`. */
  push(deadline: number, match: PartialMatch): void {
    this.at.push(deadline);
    this.items.push(match);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The earliest deadline (Infinity when empty). */
  peekDeadline(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.at[0]!;
  }

  /** Removes the earliest entry and returns its match (call only when not empty). */
  pop(): PartialMatch {
    const top = this.items[0]!;
    const lastAt = this.at.pop()!;
    const lastItem = this.items.pop()!;
    const n = this.items.length;
    if (n > 0) {
      this.at[0] = lastAt;
      this.items[0] = lastItem;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < n && this.less(left, smallest)) smallest = left;
        if (right < n && this.less(right, smallest)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }
}
