import { describe, expect, it } from "vitest";
import { createShardLedger } from "./shard-ledger.js";

const rows = (...shards: number[]) => Uint32Array.from(shards);

describe("shard ledger", () => {
  it("owns acquired shards under their epoch, starting from the stored watermarks", () => {
    const ledger = createShardLedger();
    ledger.acquire(4095, 7, { a: 10 });
    ledger.acquire(3, 8, {});
    expect(ledger.owned()).toEqual([3, 4095]);
    expect(ledger.owns(4095)).toBe(true);
    expect(ledger.owns(4)).toBe(false);
    expect(ledger.epochOf(3)).toBe(8);
    expect(ledger.epochOf(4)).toBeUndefined();
    // Rows 0 and 2 are on shard 4095, which applied origin a:10 already.
    expect([...ledger.newRows(rows(4095, 3, 4095, 4), "a", 10)!]).toEqual([1, 3]);
    expect(ledger.newRows(rows(4095, 3, 4095, 4), "a", 11)).toBeUndefined();
    expect(ledger.newRows(rows(4095), "b", 1)).toBeUndefined();
    expect(ledger.watermarksOf(4095)).toEqual({ a: 10 });
    expect(ledger.watermarksOf(3)).toEqual({});
  });

  it("raises watermarks only upwards, on owned shards, and lists each moved shard once", () => {
    const ledger = createShardLedger();
    ledger.acquire(5, 1, {});
    ledger.acquire(6, 1, {});
    ledger.advance(rows(5, 6, 5, 7), "a", 3);
    expect(ledger.takeAdvanced()).toEqual([5, 6]);
    expect(ledger.takeAdvanced()).toEqual([]);
    ledger.advance(rows(5), "a", 3);
    ledger.advance(rows(5), "a", 2);
    expect(ledger.takeAdvanced()).toEqual([]);
    ledger.advance(rows(5), "b", 1);
    expect(ledger.takeAdvanced()).toEqual([5]);
    expect([...ledger.newRows(rows(5, 6, 7), "a", 3)!]).toEqual([2]);
    expect(ledger.newRows(rows(5, 6, 7), "a", 4)).toBeUndefined();
    expect(ledger.watermarksOf(5)).toEqual({ a: 3, b: 1 });
    expect(ledger.watermarksOf(7)).toEqual({});
  });

  it("forgets a released shard's watermarks, and a re-acquired shard starts from the stored ones", () => {
    const ledger = createShardLedger();
    ledger.acquire(9, 1, {});
    ledger.advance(rows(9), "a", 5);
    ledger.release(9);
    expect(ledger.owns(9)).toBe(false);
    expect(ledger.owned()).toEqual([]);
    expect(ledger.takeAdvanced()).toEqual([]);
    expect(ledger.newRows(rows(9), "a", 1)).toBeUndefined();
    ledger.acquire(9, 2, { a: 4 });
    expect(ledger.watermarksOf(9)).toEqual({ a: 4 });
    expect([...ledger.newRows(rows(9, 9), "a", 4)!]).toEqual([]);
    expect(ledger.newRows(rows(9), "a", 5)).toBeUndefined();
  });
});
