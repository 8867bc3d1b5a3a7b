import { describe, expect, it } from "vitest";
import {
  createBatchBuilder,
  hashRow,
  hashRows,
  hashValues,
  parseSchemaString,
  rowsToBatch,
  selectRows,
  shardOf,
} from "./index.js";

describe("key hash", () => {
  it("is stable: pinned values for a few keys", () => {
    // These numbers are part of the contract: shards of stored state depend on them.
    const schema = parseSchemaString("sym*:string,id*:int64,v:double");
    const batch = rowsToBatch(schema, [
      { sym: "IBM", id: 1 },
      { sym: "", id: 0 },
      { sym: "東京", id: -5 },
      { sym: null, id: 9_007_199_254_740_991 },
    ]);
    expect(Array.from(hashRows(batch, [0, 1]))).toEqual([3983763066, 854286255, 3917333040, 2181661913]);
    expect(hashValues(["IBM"], ["string"])).toBe(708071220);
    expect(hashValues([42], ["int64"])).toBe(496585046);
    expect(hashValues([1.5], ["double"])).toBe(2644915531);
    expect(hashValues([true], ["boolean"])).toBe(3780889313);
    expect(hashValues([new Uint8Array([1, 2, 3, 4, 5])], ["blob"])).toBe(3355217259);
    expect(hashValues([null], ["int32"])).toBe(3165392125);
  });

  it("is equal for equal keys in batches of different layouts", () => {
    const a = rowsToBatch(parseSchemaString("sym*:string,id*:int64,price:double"), [
      { sym: "x", id: 1, price: 1 },
      { sym: "IBM", id: 7, price: 2 },
    ]);
    const b = rowsToBatch(parseSchemaString("note:string,price:double,id*:int32,sym*:string"), [
      { note: null, price: null, id: 7, sym: "IBM" },
    ]);
    expect(hashRow(b, [3, 2], 0)).toBe(hashRow(a, [0, 1], 1));
    const selected = selectRows(a, new Uint32Array([1]));
    expect(hashRow(selected, [0, 1], 0)).toBe(hashRow(a, [0, 1], 1));
    expect(hashValues(["IBM", 7], ["string", "int64"])).toBe(hashRow(a, [0, 1], 1));
  });

  it("gives hashRows, hashRow and hashValues the same result for every type, nulls included", () => {
    const schema = parseSchemaString("a:int32,b:int64,c:double,d:money,e:string,f:date,g:stamp,h:boolean,i:blob");
    const builder = createBatchBuilder(schema);
    const types = schema.fields.map((f) => f.type);
    const rows = [
      [-1, -(2 ** 40), -0, 0.5, "héllo 🚀", 86400, 1e15, true, new Uint8Array([9, 8, 7])],
      [2 ** 31 - 1, 2 ** 53 - 1, Number.NaN, 123.456789, "", -86400, -1, false, new Uint8Array(0)],
      [null, null, null, null, null, null, null, null, null],
      [0, 0, 1.25e300, -7, "a", 0, 0, null, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
    ] as const;
    for (const row of rows) builder.appendValues(row, 1);
    const batch = builder.seal();
    const all = types.map((_, i) => i);
    const hashes = hashRows(batch, all, new Uint32Array(10));
    expect(hashes.length).toBe(rows.length);
    rows.forEach((row, r) => {
      expect(hashRow(batch, all, r)).toBe(hashes[r]);
      expect(hashValues(row, types)).toBe(hashes[r]);
      for (const f of all) expect(hashRows(batch, [f])[r]).toBe(hashValues([row[f] ?? null], [types[f]!]));
    });
    expect(new Set(hashes).size).toBe(rows.length);
  });

  it("hashes equal numbers alike whatever the numeric type", () => {
    expect(hashValues([5], ["int32"])).toBe(hashValues([5], ["int64"]));
    expect(hashValues([5], ["double"])).toBe(hashValues([5], ["stamp"]));
    expect(hashValues([-0], ["double"])).toBe(hashValues([0], ["int32"]));
    expect(hashValues([1], ["int64"])).not.toBe(hashValues([2], ["int64"]));
    expect(hashValues(["ab", "c"], ["string", "string"])).not.toBe(hashValues(["a", "bc"], ["string", "string"]));
  });

  it("rejects values that do not fit their types and unknown fields", () => {
    expect(() => hashValues(["x"], ["int64"])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => hashValues([1], [])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    const batch = rowsToBatch(parseSchemaString("id:int64"), [{ id: 1 }]);
    expect(() => hashRows(batch, [1])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("shardOf", () => {
  it("is the hash modulo the shard count", () => {
    expect(shardOf(4097, 4096)).toBe(1);
    expect(shardOf(4_294_967_295, 4096)).toBe(4095);
    expect(shardOf(123, 1)).toBe(0);
    expect(() => shardOf(1, 0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => shardOf(1, 2.5)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("spreads sequential keys evenly over shards", () => {
    const schema = parseSchemaString("id*:int64,sym*:string");
    const rows = Array.from({ length: 64_000 }, (_, i) => ({ id: i, sym: `k${i}` }));
    const batch = rowsToBatch(schema, rows);
    for (const fields of [[0], [1]]) {
      const counts = new Array(16).fill(0);
      for (const hash of hashRows(batch, fields)) counts[shardOf(hash, 16)]++;
      for (const count of counts) expect(Math.abs(count - 4000)).toBeLessThan(400);
    }
  });
});
