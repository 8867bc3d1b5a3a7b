import type { Member, MembershipSnapshot } from "./types.js";

function sameMember(a: Member, b: Member): boolean {
  return (
    a.id === b.id &&
    a.address === b.address &&
    a.ready === b.ready &&
    a.serving === b.serving &&
    a.terminating === b.terminating
  );
}

function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const left = a[i];
    const right = b[i];
    if (left === undefined || right === undefined || !sameMember(left, right)) return false;
  }
  return true;
}

/** Copies members into plain frozen objects, sorted by id. */
export function normalizeMembers(members: Iterable<Member>): Member[] {
  const copies = [...members].map((member) =>
    Object.freeze({
      id: member.id,
      address: member.address,
      ready: member.ready,
      serving: member.serving,
      terminating: member.terminating,
    }),
  );
  copies.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return copies;
}

/**
 * Holds the newest membership snapshot and hands it to any number of watchers. Publishing the
 * same members again is a no-op; any change bumps the version by one. Watchers that fall behind
 * get the newest snapshot only (membership is state, not a log).
 */
export class SnapshotHub {
  #current: MembershipSnapshot | undefined;
  #version = 0;
  #closed = false;
  readonly #wakers = new Set<() => void>();

  /** The newest snapshot, if one was published. */
  get current(): MembershipSnapshot | undefined {
    return this.#current;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Publishes `members`; returns true when that changed the membership. */
  publish(members: Iterable<Member>): boolean {
    if (this.#closed) return false;
    const normalized = normalizeMembers(members);
    if (this.#current !== undefined && sameMembers(this.#current.members, normalized)) return false;
    this.#version += 1;
    Object.freeze(normalized);
    this.#current = Object.freeze({ version: this.#version, members: normalized });
    this.#wake();
    return true;
  }

  /** Ends every watch. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** Snapshots from the newest one on, until `signal` aborts or the hub closes. */
  async *watch(signal?: AbortSignal): AsyncGenerator<MembershipSnapshot, void, undefined> {
    let seen = 0;
    while (!this.#closed && signal?.aborted !== true) {
      const current = this.#current;
      if (current !== undefined && current.version > seen) {
        seen = current.version;
        yield current;
        continue;
      }
      await this.#next(signal);
    }
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  #next(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        this.#wakers.delete(done);
        resolve();
      };
      this.#wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
