import { type Batch, createSchema, hashRow, parseSchemaString, rowsToBatch, shardOf } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { createRoutingPolicy } from "./create-routing-policy.js";
import type { RouteResult } from "./types.js";

const schema = parseSchemaString("id*:int64,symbol:string,price:double");

function batchOf(count: number): Batch {
  return rowsToBatch(
    schema,
    Array.from({ length: count }, (_, i) => ({ id: i, symbol: `S${i % 7}`, price: i / 2 })),
  );
}

/** Target of every row, -1 for held rows. */
function targetsOf(result: RouteResult, count: number): number[] {
  const targets = new Array<number>(count).fill(-2);
  for (const selection of [...result.selections, ...(result.held ? [result.held] : [])]) {
    expect(selection.rows.length).toBe(selection.count);
    for (const row of selection.rows) {
      expect(targets[row]).toBe(-2);
      targets[row] = selection.target;
    }
  }
  expect(targets.includes(-2)).toBe(false);
  return targets;
}

describe("round-robin", () => {
  it("sends each batch whole to the next member in id order", () => {
    const policy = createRoutingPolicy({ policy: "round-robin", members: ["c", "a", "b"] });
    expect(policy.members).toEqual(["a", "b", "c"]);
    const batch = batchOf(10);
    const picks = Array.from({ length: 6 }, () => {
      const result = policy.route(batch);
      expect(result.selections).toHaveLength(1);
      expect(result.selections[0]?.whole).toBe(true);
      expect(result.selections[0]?.count).toBe(10);
      return policy.members[result.selections[0]!.target];
    });
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("holds the batch when there are no members", () => {
    const result = createRoutingPolicy({ policy: "round-robin" }).route(batchOf(3));
    expect(result.selections).toEqual([]);
    expect(result.held?.count).toBe(3);
  });
});

describe("round-robin and multicast without columns", () => {
  it("route a row count alone, and a subset of rows as that subset", () => {
    const policy = createRoutingPolicy({ policy: "multicast", members: ["a", "b"] });
    const rows = Uint32Array.of(2, 5);
    const result = policy.route({ length: 10 }, { rows });
    expect(result.selections.map((s) => [s.target, [...s.rows], s.whole])).toEqual([
      [0, [2, 5], false],
      [1, [2, 5], false],
    ]);
    const whole = createRoutingPolicy({ policy: "round-robin", members: ["a"] }).route({ length: 4 });
    expect(whole.selections[0]).toMatchObject({ target: 0, count: 4, whole: true });
  });
});

describe("multicast", () => {
  it("sends every batch whole to every member", () => {
    const policy = createRoutingPolicy({ policy: "multicast", members: ["w1", "w2", "w3"] });
    const result = policy.route(batchOf(5));
    expect(result.selections.map((s) => [s.target, s.count, s.whole])).toEqual([
      [0, 5, true],
      [1, 5, true],
      [2, 5, true],
    ]);
    expect(result.held).toBeUndefined();
  });
});

describe("hash", () => {
  it("sends a row to member (key hash mod S) mod N of the members sorted by id", () => {
    const policy = createRoutingPolicy({ policy: "hash", schema, shardCount: 64, members: ["w3", "w1", "w2"] });
    const batch = batchOf(200);
    const targets = targetsOf(policy.route(batch), batch.length);
    for (let row = 0; row < batch.length; row++) {
      const shard = shardOf(hashRow(batch, [0], row), 64);
      expect(targets[row]).toBe(shard % 3);
    }
  });
});

describe("consistent-hash", () => {
  it("places rows by the shard of the key fields, the same shard as @espmesh/events' shardOf", () => {
    const policy = createRoutingPolicy({ schema, members: ["w1", "w2", "w3", "w4"] });
    expect(policy.name).toBe("consistent-hash");
    const batch = batchOf(500);
    const shards = policy.shardsOf(batch);
    const targets = targetsOf(policy.route(batch, { shards }), batch.length);
    for (let row = 0; row < batch.length; row++) {
      expect(shards[row]).toBe(shardOf(hashRow(batch, [0], row), 4096));
      expect(targets[row]).toBe(policy.owners![shards[row]!]);
    }
    expect(new Set(targets).size).toBe(4);
  });

  it("hashes the configured hash fields instead of the key", () => {
    const policy = createRoutingPolicy({ schema, hashFields: ["symbol"], members: ["w1", "w2", "w3"] });
    const batch = batchOf(70);
    const targets = targetsOf(policy.route(batch), batch.length);
    for (let row = 0; row < batch.length; row++) expect(targets[row]).toBe(targets[row % 7]);
  });

  it("routes by a caller's owner table and holds rows of shards owned by -1", () => {
    const policy = createRoutingPolicy({ schema, shardCount: 16, members: ["w1", "w2"] });
    const owners = new Int32Array(16).map((_, shard) => (shard < 4 ? -1 : 10 + (shard % 3)));
    const batch = batchOf(300);
    const shards = policy.shardsOf(batch);
    const targets = targetsOf(policy.route(batch, { owners, shards }), batch.length);
    for (let row = 0; row < batch.length; row++) expect(targets[row]).toBe(owners[shards[row]!]);
    expect(targets.filter((t) => t === -1).length).toBeGreaterThan(0);
  });

  it("routes only the given subset of rows, returning batch row numbers", () => {
    const policy = createRoutingPolicy({ schema, members: ["w1", "w2", "w3"] });
    const batch = batchOf(100);
    const full = targetsOf(policy.route(batch), batch.length);
    const subset = Uint32Array.from({ length: 30 }, (_, i) => i * 3 + 1);
    const result = policy.route(batch, { rows: subset });
    const seen: number[] = [];
    for (const selection of result.selections) {
      expect(selection.whole).toBe(false);
      for (const row of selection.rows) {
        expect(full[row]).toBe(selection.target);
        seen.push(row);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...subset]);
  });

  it("with bounded load keeps every member at or under c × the mean load", () => {
    const policy = createRoutingPolicy({ schema, boundedLoad: 1.25, members: ["w1", "w2", "w3", "w4"] });
    const skewed = rowsToBatch(
      schema,
      Array.from({ length: 1000 }, (_, i) => ({ id: i % 3, symbol: "X", price: 1 })),
    );
    const loads = [400, 0, 0, 0];
    const result = policy.route(skewed, { loads });
    const cap = Math.ceil((1.25 * (1000 + 400)) / 4);
    const given = [0, 0, 0, 0];
    for (const selection of result.selections) given[selection.target] = selection.count;
    for (let m = 0; m < 4; m++) expect((loads[m] ?? 0) + (given[m] ?? 0)).toBeLessThanOrEqual(cap);
    expect(given.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it("without bounded load keeps every row on its shard's owner whatever the loads", () => {
    const policy = createRoutingPolicy({ schema, members: ["w1", "w2"] });
    const batch = rowsToBatch(
      schema,
      Array.from({ length: 100 }, () => ({ id: 7, symbol: "X", price: 1 })),
    );
    const result = policy.route(batch, { loads: [1e9, 0] });
    expect(result.selections).toHaveLength(1);
    expect(result.selections[0]?.whole).toBe(true);
  });
});

describe("createRoutingPolicy options", () => {
  it.each([
    [{ policy: "random" as never, schema }, "policy"],
    [{ schema, shardCount: 0 }, "shardCount"],
    [{}, "schema"],
    [{ schema: createSchema([{ name: "x", type: "int32" }]) }, "hashFields"],
    [{ schema, hashFields: ["nope"] }, "hashFields"],
    [{ policy: "round-robin" as const, hashFields: ["id"] }, "hashFields"],
    [{ policy: "hash" as const, schema, boundedLoad: 1.2 }, "boundedLoad"],
    [{ schema, boundedLoad: 0.5 }, "boundedLoad"],
  ])("rejects %o naming the option %s", (options, field) => {
    try {
      createRoutingPolicy(options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MeshError);
      expect((error as MeshError).code).toBe("INVALID_ARGUMENT");
      expect((error as MeshError).details.field).toBe(field);
    }
  });

  it("refuses shardsOf on a policy that does not shard", () => {
    expect(() => createRoutingPolicy({ policy: "multicast" }).shardsOf(batchOf(1))).toThrow(
      /does not place rows by shard/,
    );
  });
});
