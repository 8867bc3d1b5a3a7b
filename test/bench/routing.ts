/**
 * routing: the consistent-hash policy of `@espmesh/routing` (S = 4096 shards, rank-normalised
 * rendezvous ownership) at N = 100 members, beside the `hashring` npm package (ketama ring, 160
 * points per server) over the same 100 member ids and the same string keys.
 *
 * - lookup: ns per key to find its member: espmesh over whole 1000-row batches (key hash of the
 *   key column, shard, owner table), hashring `ring.get(key)` one key at a time. The table also
 *   shows espmesh's full `route()` (lookup plus grouping the rows into per-member selections) and
 *   the lookup of int64 keys.
 * - rebuild: ms to build the table for 100 members from nothing (every member's weights computed),
 *   and after one member joins (weights of the others cached); hashring: `new HashRing(ids)`.
 * - movement: % of 200k keys whose member changes when member 101 joins (ideal 1/101 = 0.99%).
 * - balance: max / mean keys per member over the same keys at N = 100 (1.00 = perfect).
 */
import { createRequire } from "node:module";
import { type Batch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import { createRoutingPolicy, type RoutingPolicy, shardsPerMember } from "@espmesh/routing";
import { emit, measure, printTable } from "./lib/report.js";

interface HashRing {
  get(key: string): string;
}
type HashRingConstructor = new (servers: string[]) => HashRing;
const HashRingClass = createRequire(import.meta.url)("hashring") as HashRingConstructor;

const N = 100;
const KEYS = 200_000;
const BATCH = 1000;
const MS = Number(process.env.BENCH_MS ?? 1500);

const ids = Array.from({ length: N + 1 }, (_, i) => `orders-worker-${i}`);
const keys = Array.from({ length: KEYS }, (_, i) => `customer-${(i * 2654435761) % 10_000_019}`);
const schema = parseSchemaString("customer*:string,amount:double");
const intSchema = parseSchemaString("customer*:int64,amount:double");
const batches: Batch[] = [];
const intBatches: Batch[] = [];
for (let i = 0; i < KEYS; i += BATCH) {
  batches.push(
    rowsToBatch(
      schema,
      keys.slice(i, i + BATCH).map((customer) => ({ customer, amount: 1 })),
    ),
  );
  intBatches.push(
    rowsToBatch(
      intSchema,
      keys.slice(i, i + BATCH).map((_, j) => ({ customer: ((i + j) * 2654435761) % 10_000_019, amount: 1 })),
    ),
  );
}

function policyOf(members: readonly string[]): RoutingPolicy {
  return createRoutingPolicy({ policy: "consistent-hash", schema, shardCount: 4096, members });
}

/** Member id of every key under a policy. */
function placeAll(policy: RoutingPolicy): string[] {
  const out: string[] = [];
  for (const batch of batches) {
    const shards = policy.shardsOf(batch);
    for (const shard of shards) out.push(policy.members[policy.owners![shard]!]!);
  }
  return out;
}

function movedPercent(before: readonly string[], after: readonly string[], newcomer: string): number {
  let moved = 0;
  let elsewhere = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] !== after[i]) {
      moved++;
      if (after[i] !== newcomer) elsewhere++;
    }
  }
  if (elsewhere > 0) console.log(`note: ${elsewhere} keys moved between old members`);
  return (100 * moved) / before.length;
}

function balanceOf(placement: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const member of placement) counts.set(member, (counts.get(member) ?? 0) + 1);
  return Math.max(...counts.values()) / (placement.length / N);
}

function timeMs(fn: () => void, repeat: number): number {
  const start = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  return (performance.now() - start) / repeat;
}

/** Key → member for every row of rotating batches, through the shard table. */
function lookupRate(policy: RoutingPolicy, source: readonly Batch[]): number {
  const shards = new Uint32Array(BATCH);
  const members = new Int32Array(BATCH);
  let next = 0;
  return measure(
    () => {
      const owners = policy.owners!;
      const batch = source[next++ % source.length]!;
      policy.shardsOf(batch, shards);
      for (let r = 0; r < batch.length; r++) members[r] = owners[shards[r]!]!;
    },
    BATCH,
    MS,
  );
}

// lookup
const policy = policyOf(ids.slice(0, N));
const lookupPerSec = lookupRate(policy, batches);
const intPolicy = createRoutingPolicy({ schema: intSchema, members: ids.slice(0, N) });
const intLookupPerSec = lookupRate(intPolicy, intBatches);
let next = 0;
const routePerSec = measure(
  () => {
    policy.route(batches[next++ % batches.length]!);
  },
  BATCH,
  MS,
);
const ring = new HashRingClass(ids.slice(0, N));
let k = 0;
const ringPerSec = measure(
  () => {
    for (let i = 0; i < BATCH; i++) ring.get(keys[k++ % KEYS]!);
  },
  BATCH,
  MS,
);
const lookupNs = 1e9 / lookupPerSec;
const ringLookupNs = 1e9 / ringPerSec;

// rebuild
let generation = 0;
policyOf(ids.slice(0, N).map((id) => `${id}-warm-up`));
const coldMs = timeMs(() => {
  generation++;
  policyOf(ids.slice(0, N).map((id) => `${id}-g${generation}`));
}, 10);
const warm = policyOf(ids.slice(0, N));
let flip = false;
const warmMs = timeMs(() => {
  flip = !flip;
  warm.setMembers(ids.slice(0, flip ? N + 1 : N));
}, 20);
const ringBuildMs = timeMs(() => new HashRingClass(ids.slice(0, N)), 10);

// movement and balance over the same keys
const before = placeAll(policyOf(ids.slice(0, N)));
const after = placeAll(policyOf(ids));
const moved = movedPercent(before, after, ids[N]!);
const ringAfterRing = new HashRingClass(ids);
const ringBefore = keys.map((key) => ring.get(key));
const ringAfter = keys.map((key) => ringAfterRing.get(key));
const ringMoved = movedPercent(ringBefore, ringAfter, ids[N]!);
const balance = balanceOf(before);
const ringBalance = balanceOf(ringBefore);
const shardCounts = shardsPerMember(policyOf(ids.slice(0, N)).ownership());
const shardBalance = Math.max(...shardCounts) / (4096 / N);

printTable(`routing at N = ${N} members, ${KEYS / 1000}k string keys`, [
  { metric: "lookup ns/key", espmesh: lookupNs, hashring: ringLookupNs },
  { metric: "lookup ns/key, int64 keys", espmesh: 1e9 / intLookupPerSec, hashring: Number.NaN },
  { metric: "route() ns/row (lookup + split)", espmesh: 1e9 / routePerSec, hashring: Number.NaN },
  { metric: "rebuild ms (cold)", espmesh: coldMs, hashring: ringBuildMs },
  { metric: "rebuild ms (one joins)", espmesh: warmMs, hashring: ringBuildMs },
  { metric: "keys moved % (ideal 0.99)", espmesh: moved, hashring: ringMoved },
  { metric: "balance max/mean keys", espmesh: balance, hashring: ringBalance },
  { metric: "balance max/mean shards", espmesh: shardBalance, hashring: Number.NaN },
]);
emit(
  { bench: "routing", metric: "lookup", value: lookupNs, unit: "ns", baseline: ringLookupNs },
  { bench: "routing", metric: "rebuild", value: coldMs, unit: "ms", baseline: ringBuildMs },
  { bench: "routing", metric: "lookup-int64", value: 1e9 / intLookupPerSec, unit: "ns" },
  { bench: "routing", metric: "route", value: 1e9 / routePerSec, unit: "ns/row" },
  { bench: "routing", metric: "rebuild-join", value: warmMs, unit: "ms" },
  { bench: "routing", metric: "movement", value: moved, unit: "% keys", baseline: ringMoved },
  { bench: "routing", metric: "balance", value: balance, unit: "max/mean", baseline: ringBalance },
);
