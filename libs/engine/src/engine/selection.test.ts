import { batchToEvents, batchToRows, type Row, rowsToBatch } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { loadProject } from "../model/load-project.js";
import { createEngine } from "./engine.js";

// Filters pass their kept rows on as a selection of the input batch, computes evaluate and
// aggregates read only the selected rows; these tests hold the results to a plain row-by-row
// reference over random batches with nulls and more group keys than the aggregate's key cache.
const PROJECT = `
name: p
windows:
  - { name: src, kind: source, schema: "id*:int64,sym:string,price:double,qty:int32", insertOnly: true }
  - { name: liquid, kind: filter, inputs: [src], expression: "price > 10" }
  - { name: even, kind: filter, inputs: [liquid], expression: "id % 2 == 0 or isnull(qty)" }
  - name: priced
    kind: compute
    inputs: [even]
    schema: "id*:int64,sym:string,price:double,notional:double,lot:int32,tag:string,cheap:boolean"
    fields: { sym: sym, price: price, notional: "price * qty", lot: "qty % 7", tag: "upper(sym)", cheap: "price < 50" }
  - name: bySym
    kind: aggregate
    inputs: [priced]
    schema: "sym*:string,total:double,n:int64,avg:double,mx:double,lots:int64,twice:double"
    fields:
      total: ESP_aSum(notional)
      n: ESP_aCount()
      avg: ESP_aAve(price)
      mx: ESP_aMax(price)
      lots: ESP_aSum(lot)
      twice: ESP_aSum(notional * 2)
`;

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

/** 300 keys (more than the 256 entries of the key cache), the empty string among them. */
const KEYS = Array.from({ length: 300 }, (_, i) => (i === 0 ? "" : `k${i.toString(36)}${"x".repeat(i % 5)}`));

function makeRows(next: () => number, start: number, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: start + i,
    sym: KEYS[Math.floor(next() * (next() < 0.5 ? 8 : KEYS.length))]!,
    price: next() < 0.05 ? null : Math.round(next() * 10000) / 100,
    qty: next() < 0.1 ? null : 1 + Math.floor(next() * 500),
  }));
}

interface Totals {
  total: number | null;
  n: number;
  sumPrice: number;
  mx: number;
  lots: number | null;
  twice: number | null;
}

describe("selections through filter, compute and aggregate", () => {
  it("emit what a row-by-row evaluation gives, batch after batch", () => {
    const engine = createEngine(loadProject(PROJECT));
    const schema = engine.model.window("src")!.schema;
    const next = random(11);
    const groups = new Map<string, Totals>();
    let id = 0;
    for (let b = 0; b < 40; b++) {
      const rows = makeRows(next, id, 1 + Math.floor(next() * 700));
      id += rows.length;
      const out = engine.process("src", rowsToBatch(schema, rows));
      const liquid = rows.filter((row) => row.price !== null && (row.price as number) > 10);
      const even = liquid.filter((row) => (row.id as number) % 2 === 0 || row.qty === null);
      const priced = even.map((row) => {
        const price = row.price as number;
        const qty = row.qty as number | null;
        return {
          id: row.id,
          sym: row.sym,
          price,
          notional: qty === null ? null : price * qty,
          lot: qty === null ? null : qty % 7,
          tag: (row.sym as string).toUpperCase(),
          cheap: price < 50,
        };
      });
      expect(out.get("liquid") && batchToRows(out.get("liquid")!)).toEqual(liquid.length ? liquid : undefined);
      expect(out.get("even") && batchToRows(out.get("even")!)).toEqual(even.length ? even : undefined);
      expect(out.get("priced") && batchToEvents(out.get("priced")!)).toEqual(
        priced.length ? priced.map((fields) => ({ opcode: "insert", fields })) : undefined,
      );
      for (const row of priced) {
        const totals = groups.get(row.sym as string) ?? {
          total: null,
          n: 0,
          sumPrice: 0,
          mx: Number.NEGATIVE_INFINITY,
          lots: null,
          twice: null,
        };
        if (row.notional !== null) {
          totals.total = (totals.total ?? 0) + row.notional;
          totals.twice = (totals.twice ?? 0) + row.notional * 2;
        }
        if (row.lot !== null) totals.lots = (totals.lots ?? 0) + row.lot;
        totals.n += 1;
        totals.sumPrice += row.price;
        totals.mx = Math.max(totals.mx, row.price);
        groups.set(row.sym as string, totals);
      }
    }
    const expected = [...groups].map(([sym, t]) => ({
      sym,
      total: t.total,
      n: t.n,
      avg: t.sumPrice / t.n,
      mx: t.mx,
      lots: t.lots,
      twice: t.twice,
    }));
    const bySym = (a: Row, b: Row) => ((a.sym as string) < (b.sym as string) ? -1 : 1);
    expect(batchToRows(engine.query("bySym")).sort(bySym)).toEqual(expected.sort(bySym));
  });

  it("give windows that do not read selections the selected rows (copy, union, a second compute)", () => {
    const engine = createEngine(
      loadProject(`
name: p
windows:
  - { name: src, kind: source, schema: "id*:int64,sym:string,price:double", insertOnly: true }
  - { name: big, kind: filter, inputs: [src], expression: "price > 10" }
  - { name: small, kind: filter, inputs: [src], expression: "price < 3" }
  - { name: both, kind: union, inputs: [big, small] }
  - { name: kept, kind: copy, inputs: [both], retention: { type: bycount_sliding, count: 3 } }
  - name: doubled
    kind: compute
    inputs: [big]
    schema: "id*:int64,twice:double"
    fields: { twice: "price * 2" }
`),
    );
    const schema = engine.model.window("src")!.schema;
    const rows = [
      { id: 1, sym: "a", price: 1 },
      { id: 2, sym: "b", price: 20 },
      { id: 3, sym: "c", price: 5 },
      { id: 4, sym: "d", price: 30 },
      { id: 5, sym: "e", price: 2 },
    ];
    const out = engine.process("src", rowsToBatch(schema, rows));
    expect(batchToRows(out.get("both")!).map((row) => row.id)).toEqual([2, 4, 1, 5]);
    expect(batchToRows(engine.query("kept")).map((row) => row.id)).toEqual([4, 1, 5]);
    expect(batchToRows(out.get("doubled")!)).toEqual([
      { id: 2, twice: 40 },
      { id: 4, twice: 60 },
    ]);
  });
});
