import { describe, expect, it } from "vitest";
import { createConsistentHashPolicy } from "./consistent-hash.js";
import { diffOwnership, movedShardCount, shardsPerMember } from "./ownership.js";
import { createWeightCache, memberWeights, rendezvousOwners } from "./rendezvous.js";

const S = 4096;

/** StatefulSet-style names, as the local driver and Kubernetes StatefulSets give them. */
const ordinalIds = Array.from({ length: 17 }, (_, i) => `worker-${i}`);
const prefixedIds = Array.from({ length: 17 }, (_, i) => `espmesh-worker-${i}`);
/** Deployment-style pod names: a ReplicaSet hash and a random five-letter suffix. */
const podIds = [
  "orders-worker-6c9d8b7f5-x2k4q",
  "orders-worker-6c9d8b7f5-9fzjw",
  "orders-worker-6c9d8b7f5-lq7tn",
  "orders-worker-6c9d8b7f5-b4mxs",
  "orders-worker-6c9d8b7f5-hv2cd",
  "orders-worker-6c9d8b7f5-p8wrg",
  "orders-worker-6c9d8b7f5-tn5kz",
  "orders-worker-6c9d8b7f5-7jqbl",
  "orders-worker-6c9d8b7f5-zd4vh",
  "orders-worker-6c9d8b7f5-mc9xp",
  "orders-worker-6c9d8b7f5-r6gfs",
  "orders-worker-6c9d8b7f5-k2lwn",
  "orders-worker-6c9d8b7f5-w5hcq",
  "orders-worker-6c9d8b7f5-f8vzt",
  "orders-worker-6c9d8b7f5-s4bjm",
  "orders-worker-6c9d8b7f5-g7xpd",
  "orders-worker-6c9d8b7f5-n2qrk",
];

function table(ids: readonly string[]) {
  const cache = createWeightCache(S);
  return { members: ids, owners: rendezvousOwners(ids, cache.weightsOf(ids), S) };
}

describe.each([
  ["ordinal ids", ordinalIds],
  ["prefixed ordinal ids", prefixedIds],
  ["pod-name ids", podIds],
])("rendezvous ownership over all %s shards with %s", (_label, ids) => {
  it("adding a member (N → N+1, N = 1…16) moves at most 1.10 × S/(N+1) shards, all to the new member", () => {
    for (let n = 1; n <= 16; n++) {
      const before = table(ids.slice(0, n));
      const after = table(ids.slice(0, n + 1));
      const moves = diffOwnership(before, after);
      const newcomer = ids[n];
      for (const move of moves) expect(move.to).toBe(newcomer);
      const moved = movedShardCount(moves);
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThanOrEqual((1.1 * S) / (n + 1));
      expect(moved).toBe(shardsPerMember(after)[n]);
    }
  });

  it("removing any member (N → N−1, N = 2…17) moves only the removed member's shards", () => {
    for (let n = 2; n <= 17; n++) {
      const members = ids.slice(0, n);
      const before = table(members);
      const owned = shardsPerMember(before);
      for (let gone = 0; gone < n; gone++) {
        const after = table(members.filter((_, i) => i !== gone));
        const moves = diffOwnership(before, after);
        for (const move of moves) {
          expect(move.from).toBe(members[gone]);
          expect(move.to).not.toBeUndefined();
        }
        expect(movedShardCount(moves)).toBe(owned[gone]);
      }
    }
  });

  it("at N = 10 the busiest member holds at most 1.10 × the mean shard count", () => {
    const counts = shardsPerMember(table(ids.slice(0, 10)));
    const max = Math.max(...counts);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(S);
    expect(max / (S / 10)).toBeLessThanOrEqual(1.1);
  });
});

describe("rendezvous weights", () => {
  it("give each member every rank 0…S−1 exactly once", () => {
    const weights = memberWeights("worker-3", S);
    const ranks = new Set(Array.from(weights, (w) => Math.floor(w / 2 ** 32)));
    expect(ranks.size).toBe(S);
    expect(Math.min(...ranks)).toBe(0);
    expect(Math.max(...ranks)).toBe(S - 1);
  });

  it("do not depend on the other members or on their order", () => {
    const a = table(["a", "b", "c"]);
    const b = table(["c", "a", "b"]);
    for (let s = 0; s < S; s++) expect(a.members[a.owners[s]!]).toBe(b.members[b.owners[s]!]);
  });

  it("leave every shard unowned when there are no members", () => {
    expect(table([]).owners.every((owner) => owner === -1)).toBe(true);
  });
});

describe("consistent-hash policy membership", () => {
  it("reports the same moves as the tables' diff when a member joins and leaves", () => {
    const policy = createConsistentHashPolicy({ shardCount: S, hashFields: [0], boundedLoad: undefined });
    const first = policy.setMembers(ordinalIds.slice(0, 4));
    expect(first.every((move) => move.from === undefined)).toBe(true);
    expect(movedShardCount(first)).toBe(S);
    const joined = policy.setMembers(ordinalIds.slice(0, 5));
    expect(joined.every((move) => move.to === "worker-4")).toBe(true);
    const left = policy.setMembers(ordinalIds.slice(0, 4));
    expect(left.every((move) => move.from === "worker-4")).toBe(true);
    expect(movedShardCount(left)).toBe(movedShardCount(joined));
  });
});
