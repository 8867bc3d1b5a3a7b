import { type Batch, batchToEvents, createBatchBuilder, Opcode, type Row } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { loadProject } from "../model/load-project.js";
import { createEngine, type Engine, type OutputSet } from "./engine.js";

const PROJECT = `
name: every-state
windows:
  - { name: orders, kind: source, schema: "id*:int64,sym:string,qty:int32,price:double,trader:int64" }
  - { name: traders, kind: source, schema: "tid*:int64,name:string,desk:string" }
  - { name: ticks, kind: source, schema: "seq*:int64,sym:string,px:double", insertOnly: true }
  - { name: big, kind: filter, inputs: [orders], expression: "qty >= 10" }
  - name: cost
    kind: compute
    inputs: [big]
    schema: "id*:int64,sym:string,qty:int32,cost:double,trader:int64"
    fields: { sym: sym, qty: qty, cost: "qty * price", trader: trader }
  - name: bySym
    kind: aggregate
    inputs: [cost]
    schema: "sym*:string,n:int64,total:double,mx:double,first:double,last:double,names:string,sd:double"
    fields:
      n: ESP_aCount()
      total: ESP_aSum(cost)
      mx: ESP_aMax(cost)
      first: ESP_aFirst(cost)
      last: ESP_aLast(cost)
      names: ESP_aCat(id)
      sd: ESP_aStd(cost)
  - name: tickStats
    kind: aggregate
    inputs: [ticks]
    schema: "sym*:string,n:int64,hi:double,lag:double,recent:double"
    fields: { n: ESP_aCount(), hi: ESP_aMax(px), lag: "ESP_aLag(px, 2)", recent: "ESP_aSumTimed(px, 3)" }
  - name: withDesk
    kind: join
    inputs: [cost, traders]
    join: { type: fullouter, conditions: [{ left: trader, right: tid }] }
    output: [{ name: sym, source: l_sym }, { name: cost, source: l_cost }, { name: desk, source: r_desk }]
  - { name: recent, kind: copy, inputs: [orders], retention: { type: bytime_sliding, period: 5 seconds } }
  - { name: lastFew, kind: copy, inputs: [orders], retention: { type: bycount_sliding, count: 7 } }
  - { name: all, kind: union, inputs: [big, orders], strict: true }
  - { name: counts, kind: counter, inputs: [orders, ticks], countInterval: 2 seconds }
`;

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Step = { window: string; rows: Row[]; opcodes: Opcode[] } | { advance: number };

function makeStream(length: number): Step[] {
  const next = random(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const syms = ["IBM", "SAS", "MSFT", "AAPL", "ORCL"];
  const live = new Map<number, Row>();
  const traders = new Set<number>();
  const steps: Step[] = [];
  let time = 0;
  let seq = 0;
  for (let i = 0; i < length; i++) {
    const roll = next();
    if (roll < 0.1) {
      time += Math.floor(next() * 2_000_000);
      steps.push({ advance: time });
    } else if (roll < 0.2) {
      const rows: Row[] = [];
      const opcodes: Opcode[] = [];
      for (let k = 0; k < 3; k++) {
        const tid = 1 + Math.floor(next() * 6);
        const exists = traders.has(tid);
        if (exists && next() < 0.3) {
          rows.push({ tid });
          opcodes.push(Opcode.Delete);
          traders.delete(tid);
        } else {
          rows.push({ tid, name: `t${tid}`, desk: pick(["fx", "eq", "rates"]) });
          opcodes.push(Opcode.Upsert);
          traders.add(tid);
        }
        if (rows.filter((row) => row.tid === tid).length > 1) {
          rows.pop();
          opcodes.pop();
        }
      }
      steps.push({ window: "traders", rows, opcodes });
    } else if (roll < 0.35) {
      const rows: Row[] = [];
      for (let k = 0; k < 4; k++) rows.push({ seq: seq++, sym: pick(syms), px: Math.round(next() * 1000) / 4 });
      steps.push({ window: "ticks", rows, opcodes: rows.map(() => Opcode.Insert) });
    } else {
      const rows: Row[] = [];
      const opcodes: Opcode[] = [];
      const used = new Set<number>();
      for (let k = 0; k < 5; k++) {
        const id = 1 + Math.floor(next() * 40);
        if (used.has(id)) continue;
        used.add(id);
        const row = {
          id,
          sym: pick(syms),
          qty: Math.floor(next() * 20),
          price: Math.round(next() * 400) / 4,
          trader: 1 + Math.floor(next() * 6),
        };
        if (!live.has(id)) {
          rows.push(row);
          opcodes.push(Opcode.Insert);
          live.set(id, row);
        } else if (next() < 0.4) {
          rows.push({ id });
          opcodes.push(Opcode.Delete);
          live.delete(id);
        } else {
          rows.push(row);
          opcodes.push(Opcode.Update);
          live.set(id, row);
        }
      }
      steps.push({ window: "orders", rows, opcodes });
    }
  }
  return steps;
}

/** Events of every window, as sorted JSON per window (the order inside a batch may differ). */
function canonical(out: OutputSet): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [window, batch] of out)
    result[window] = batchToEvents(batch)
      .map((e) => JSON.stringify(e))
      .sort();
  return result;
}

function tables(engine: Engine): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const window of engine.model.windows) {
    if (!window.stateful || window.name === "all") continue; // a strict union keeps keys, not rows
    result[window.name] = batchToEvents(engine.query(window.name))
      .map((e) => JSON.stringify(e.fields))
      .sort();
  }
  return result;
}

function run(engine: Engine, step: Step): OutputSet {
  if ("advance" in step) return engine.advance(step.advance);
  const builder = createBatchBuilder(engine.model.window(step.window)!.schema, step.rows.length);
  for (const [i, row] of step.rows.entries()) builder.append(row, step.opcodes[i]);
  const batch: Batch = builder.seal();
  return engine.process(step.window, batch);
}

describe("shard snapshots", () => {
  it("a fresh engine restored from every shard's snapshot at half-stream continues exactly like an uninterrupted one", () => {
    const model = loadProject(PROJECT);
    const stream = makeStream(400);
    const half = stream.length / 2;
    let time = 0;
    const clockOf = () => () => time;
    const tick = (step: Step) => {
      if ("advance" in step) time = step.advance;
    };

    const whole = createEngine(model, { shardCount: 64, clock: clockOf() });
    const expected: Record<string, string[]>[] = [];
    let badAtHalf = 0;
    for (const [i, step] of stream.entries()) {
      if (i === half) badAtHalf = whole.badEvents.total;
      tick(step);
      const out = canonical(run(whole, step));
      if (i >= half) expected.push(out);
    }

    time = 0;
    const first = createEngine(model, { shardCount: 64, clock: clockOf() });
    for (const step of stream.slice(0, half)) {
      tick(step);
      run(first, step);
    }
    expect(first.dirtyShards().length).toBeGreaterThan(0);
    const snapshots = Array.from({ length: 64 }, (_, shard) => first.snapshot(shard));
    const second = createEngine(model, { shardCount: 64, clock: clockOf() });
    for (const [shard, bytes] of snapshots.entries()) second.restore(shard, bytes);
    expect(second.stateShards()).toEqual(first.stateShards());
    expect(tables(second)).toEqual(tables(first));

    const actual: Record<string, string[]>[] = [];
    for (const step of stream.slice(half)) {
      tick(step);
      actual.push(canonical(run(second, step)));
    }
    expect(actual).toEqual(expected);
    expect(tables(second)).toEqual(tables(whole));
    // The strict union sees every big order twice (from big and from orders): bad events alike.
    expect(second.badEvents.total).toBe(whole.badEvents.total - badAtHalf);
  });

  it("drop forgets a shard and restore brings it back", () => {
    const model = loadProject(PROJECT);
    const engine = createEngine(model, { shardCount: 8 });
    for (const step of makeStream(60)) run(engine, step);
    const before = tables(engine);
    const shards = engine.stateShards();
    expect(shards.length).toBeGreaterThan(1);
    const saved = shards.map((shard) => [shard, engine.snapshot(shard)] as const);
    for (const shard of shards) engine.drop(shard);
    expect(engine.stateShards()).toEqual([]);
    expect(engine.query("bySym").length).toBe(0);
    for (const [shard, bytes] of saved) engine.restore(shard, bytes);
    expect(tables(engine)).toEqual(before);
  });

  it("dirty shards are the shards changed since clearDirty", () => {
    const model = loadProject(PROJECT);
    const engine = createEngine(model, { shardCount: 16 });
    const builder = createBatchBuilder(model.window("orders")!.schema, 1);
    builder.append({ id: 1, sym: "IBM", qty: 50, price: 1, trader: 1 });
    const batch = builder.seal();
    const shard = engine.shardOf("orders", batch, 0);
    engine.process("orders", batch);
    expect(engine.dirtyShards()).toContain(shard);
    engine.clearDirty();
    expect(engine.dirtyShards()).toEqual([]);
  });

  it("a snapshot of another shard or project is refused", () => {
    const model = loadProject(PROJECT);
    const engine = createEngine(model, { shardCount: 16 });
    const bytes = engine.snapshot(3);
    expect(() => engine.restore(4, bytes)).toThrow(/shard 3/);
    const other = createEngine(loadProject("name: x\nwindows:\n  - { name: s, kind: source, schema: 'id*:int64' }\n"), {
      shardCount: 16,
    });
    expect(() => other.restore(3, bytes)).toThrow(/different project/);
    expect(() => engine.restore(3, new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not an espmesh shard snapshot/);
  });
});
