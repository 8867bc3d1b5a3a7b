import { describe, expect, it } from "vitest";
import { createShardLedger } from "./shard-ledger.js";

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
    expect(ledger.isNew(4095, "a", 10)).toBe(false);
    expect(ledger.isNew(4095, "a", 11)).toBe(true);
    expect(ledger.isNew(3, "a", 1)).toBe(true);
    expect(ledger.watermarksOf(4095)).toEqual({ a: 10 });
    expect(ledger.watermarksOf(3)).toEqual({});
  });

  it("raises a watermark only upwards and says whether it moved", () => {
    const ledger = createShardLedger();
    ledger.acquire(5, 1, {});
    expect(ledger.advance(5, "a", 3)).toBe(true);
    expect(ledger.advance(5, "a", 3)).toBe(false);
    expect(ledger.advance(5, "a", 2)).toBe(false);
    expect(ledger.advance(5, "b", 1)).toBe(true);
    expect(ledger.isNew(5, "a", 3)).toBe(false);
    expect(ledger.isNew(5, "a", 4)).toBe(true);
    expect(ledger.watermarksOf(5)).toEqual({ a: 3, b: 1 });
  });

  it("forgets a released shard's watermarks, and a re-acquired shard starts from the stored ones", () => {
    const ledger = createShardLedger();
    ledger.acquire(9, 1, {});
    ledger.advance(9, "a", 5);
    ledger.release(9);
    expect(ledger.owns(9)).toBe(false);
    expect(ledger.owned()).toEqual([]);
    expect(ledger.isNew(9, "a", 1)).toBe(true);
    ledger.acquire(9, 2, { a: 4 });
    expect(ledger.watermarksOf(9)).toEqual({ a: 4 });
    expect(ledger.isNew(9, "a", 4)).toBe(false);
    expect(ledger.isNew(9, "a", 5)).toBe(true);
  });
});
