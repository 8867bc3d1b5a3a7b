import { batchToRows, type Row, rowsToBatch } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { createEngine, type Engine, type EngineLogger, loadProject, projectToYaml } from "../../index.js";

const RISING = `
name: p
windows:
  - { name: trades, kind: source, insertOnly: true, schema: "id*:int64,symbol:string,price:double,time:stamp" }
  - name: rising
    kind: pattern
    inputs: [trades]
    maxPartialMatches: 3
    schema: "id*:int64,symbol:string,p0:double,p1:double,p2:double"
    patterns:
      - events:
          - { name: e1, expression: "s==symbol and p0==price" }
          - { name: e2, expression: "s==symbol and price > p0 and p1==price" }
          - { name: e3, expression: "s==symbol and price > p1" }
        logic: "fby{200 milliseconds}(e1, e2, e3)"
        output: [{ node: e1, field: symbol }, { node: e1, field: price }, { node: e2, field: price }, { node: e3, field: price }]
        timefields: [{ field: time }]
`;

function feed(engine: Engine, rows: Row[], opcode: 1 | 3 = 1): Row[] {
  const schema = engine.model.window("trades")!.schema;
  const out = engine.process("trades", rowsToBatch(schema, rows, opcode)).get("rising");
  return out === undefined ? [] : batchToRows(out);
}

function prices(rows: Row[]): unknown[] {
  return rows.map((row) => [row.symbol, row.p0, row.p1, row.p2]);
}

describe("pattern window", () => {
  it("completes a partial match restored from a snapshot into a fresh engine", () => {
    const model = loadProject(RISING);
    const before = createEngine(model, { shardCount: 8 });
    expect(
      feed(before, [
        { id: 1, symbol: "A", price: 10, time: 0 },
        { id: 2, symbol: "A", price: 11, time: 50_000 },
      ]),
    ).toEqual([]);
    const snapshots = before.stateShards().map((shard) => [shard, before.snapshot(shard)] as const);
    expect(snapshots.length).toBeGreaterThan(0);

    const after = createEngine(loadProject(RISING), { shardCount: 8 });
    for (const [shard, bytes] of snapshots) after.restore(shard, bytes);
    const out = feed(after, [{ id: 3, symbol: "A", price: 12, time: 100_000 }]);
    expect(prices(out)).toEqual([["A", 10, 11, 12]]);
    // The key is the same one the original engine would have produced.
    const original = feed(before, [{ id: 3, symbol: "A", price: 12, time: 100_000 }]);
    expect(out).toEqual(original);
  });

  it("keeps the time bound of a restored partial match", () => {
    const before = createEngine(loadProject(RISING), { shardCount: 8 });
    feed(before, [
      { id: 1, symbol: "A", price: 10, time: 0 },
      { id: 2, symbol: "A", price: 11, time: 50_000 },
    ]);
    const after = createEngine(loadProject(RISING), { shardCount: 8 });
    for (const shard of before.stateShards()) after.restore(shard, before.snapshot(shard));
    expect(feed(after, [{ id: 3, symbol: "A", price: 12, time: 250_001 }])).toEqual([]);
  });

  it("completes a trailing not restored from a snapshot when the clock passes its bound", () => {
    const project = `
name: p
windows:
  - { name: orders, kind: source, insertOnly: true, schema: "id*:int64,order:string,type:string" }
  - name: unfilled
    kind: pattern
    inputs: [orders]
    schema: "id*:int64,order:string"
    patterns:
      - events:
          - { name: open, expression: "type=='open' and o==order" }
          - { name: fill, expression: "type=='fill' and o==order" }
        logic: "fby{1 second}(open, not(fill))"
        output: [{ node: open, field: order }]
`;
    const before = createEngine(loadProject(project), { shardCount: 4 });
    const schema = before.model.window("orders")!.schema;
    before.process("orders", rowsToBatch(schema, [{ id: 1, order: "x", type: "open" }]));
    const after = createEngine(loadProject(project), { shardCount: 4 });
    for (const shard of before.stateShards()) after.restore(shard, before.snapshot(shard));
    after.advance(500_000);
    const out = after.advance(1_000_001).get("unfilled");
    expect(out === undefined ? [] : batchToRows(out).map((row) => row.order)).toEqual(["x"]);
  });

  it("drops the oldest partial match of a key at the cap and logs it", () => {
    const lines: { object: Record<string, unknown>; message: string }[] = [];
    const logger: EngineLogger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (object, message) => lines.push({ object, message }),
    };
    const engine = createEngine(loadProject(RISING), { shardCount: 8, logger });
    const starts = [10, 9, 8, 7].map((price, i) => ({ id: i + 1, symbol: "A", price, time: i }));
    feed(engine, starts);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toMatch(/reached the cap/);
    expect(lines[0]!.object).toMatchObject({ window: "rising", key: "A", cap: 3, dropped: 1 });
    // The match that started at 10 was dropped: 9 -> 9.5 -> 9.6 completes, 10 never does.
    const out = feed(engine, [
      { id: 5, symbol: "A", price: 9.5, time: 10 },
      { id: 6, symbol: "A", price: 9.6, time: 20 },
      { id: 7, symbol: "A", price: 20, time: 30 },
    ]);
    expect(prices(out).map((row) => (row as number[])[1])).not.toContain(10);
  });

  it("ignores deletes: only inserts, updates and upserts are occurrences", () => {
    const engine = createEngine(loadProject(RISING.replace("insertOnly: true, ", "")), { shardCount: 8 });
    feed(engine, [
      { id: 1, symbol: "A", price: 10, time: 0 },
      { id: 2, symbol: "A", price: 11, time: 1 },
    ]);
    expect(feed(engine, [{ id: 2, symbol: "A", price: 11, time: 1 }], 3)).toEqual([]);
    expect(prices(feed(engine, [{ id: 3, symbol: "A", price: 12, time: 2 }]))).toEqual([["A", 10, 11, 12]]);
  });

  it("writes the window back to YAML that loads into the same patterns", () => {
    const yaml = projectToYaml(loadProject(RISING));
    expect(yaml).toContain("fby{200 milliseconds}(e1, e2, e3)");
    const engine = createEngine(loadProject(yaml), { shardCount: 8 });
    const out = feed(engine, [
      { id: 1, symbol: "A", price: 10, time: 0 },
      { id: 2, symbol: "A", price: 11, time: 1 },
      { id: 3, symbol: "A", price: 12, time: 2 },
    ]);
    expect(prices(out)).toEqual([["A", 10, 11, 12]]);
  });

  it("gives each output a distinct key from the shard of the event that started the match", () => {
    const engine = createEngine(loadProject(RISING), { shardCount: 8 });
    const rows = [];
    for (let i = 0; i < 30; i++) rows.push({ id: i, symbol: `S${i % 5}`, price: i, time: i });
    const out = feed(engine, rows);
    const ids = out.map((row) => row.id as number);
    expect(out.length).toBeGreaterThan(5);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("marks the shard of the starting event dirty and snapshots nothing for other shards", () => {
    const engine = createEngine(loadProject(RISING), { shardCount: 8 });
    const schema = engine.model.window("trades")!.schema;
    const batch = rowsToBatch(schema, [{ id: 1, symbol: "A", price: 10, time: 0 }]);
    const shard = engine.shardOf("trades", batch, 0);
    engine.process("trades", batch);
    expect(engine.dirtyShards()).toEqual([shard]);
    expect(engine.stateShards()).toEqual([shard]);
    const other = (shard + 1) % 8;
    const empty = createEngine(loadProject(RISING), { shardCount: 8 });
    expect(engine.snapshot(other)).toEqual(empty.snapshot(other));
  });

  it("reports a null event time as a bad event", () => {
    const engine = createEngine(loadProject(RISING), { shardCount: 8 });
    feed(engine, [{ id: 1, symbol: "A", price: 10, time: null }]);
    expect(engine.badEvents.total).toBe(1);
    expect(engine.badEvents.recent[0]!.reason).toMatch(/event-time field is null/);
  });
});
