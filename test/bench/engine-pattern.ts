/**
 * engine-pattern: a pattern window over 1M trade events through the engine (`engine.process`
 * with 1000-event batches): three events, `fby{200 milliseconds}(e1, e2, e3)`, unification on
 * the symbol ("a large trade, then two rising prices on the same symbol within 200 ms").
 *
 * Trades: 1000 symbols, event time advancing 10 µs per trade (one trade per symbol every ~10 ms),
 * random-walk prices, sizes 1..1000 (10% of trades start a partial match).
 *
 * - pattern: input events per second through the pattern window (and the insert-only source in
 *   front of it). Baseline: the same stream through a filter window with the first event's
 *   condition, the floor any window pays per event.
 */

import { createEngine, loadProject } from "@espmesh/engine";
import { type Batch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import { emit, printTable } from "./lib/report.js";

const EVENTS = 1_000_000;
const BATCH = 1000;
const SYMBOLS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const schema = parseSchemaString("id*:int64,symbol:string,price:double,size:int32,time:stamp");
const PATTERN = `
name: bench
windows:
  - { name: trades, kind: source, insertOnly: true, schema: "${"id*:int64,symbol:string,price:double,size:int32,time:stamp"}" }
  - name: rising
    kind: pattern
    inputs: [trades]
    schema: "id*:int64,symbol:string,p0:double,p1:double,p2:double"
    patterns:
      - events:
          - { name: e1, expression: "s==symbol and p0==price and size >= 900" }
          - { name: e2, expression: "s==symbol and price > p0 and p1==price" }
          - { name: e3, expression: "s==symbol and price > p1" }
        logic: "fby{200 milliseconds}(e1, e2, e3)"
        output: [{ node: e1, field: symbol }, { node: e1, field: price }, { node: e2, field: price }, { node: e3, field: price }]
        timefields: [{ field: time }]
`;
const FILTER = `
name: bench
windows:
  - { name: trades, kind: source, insertOnly: true, schema: "id*:int64,symbol:string,price:double,size:int32,time:stamp" }
  - { name: large, kind: filter, inputs: [trades], expression: "size >= 900" }
`;

function trades(): Batch[] {
  let seed = 42;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const prices = Array.from({ length: SYMBOLS }, () => 100);
  const names = Array.from({ length: SYMBOLS }, (_, i) => `SYM${i}`);
  const batches: Batch[] = [];
  for (let start = 0; start < EVENTS; start += BATCH) {
    const rows = [];
    for (let id = start; id < start + BATCH; id++) {
      const s = Math.floor(random() * SYMBOLS);
      prices[s] = Math.max(1, prices[s]! + (random() < 0.5 ? -0.01 : 0.01));
      rows.push({ id, symbol: names[s]!, price: prices[s]!, size: 1 + Math.floor(random() * 1000), time: id * 10 });
    }
    batches.push(rowsToBatch(schema, rows));
  }
  return batches;
}

/** Events per second of one pass over all batches through a fresh engine; matches emitted. */
function run(project: string, output: string, batches: readonly Batch[]): { rate: number; matches: number } {
  const engine = createEngine(loadProject(project), { shardCount: 4096 });
  let matches = 0;
  const start = performance.now();
  for (const batch of batches) matches += engine.process("trades", batch).get(output)?.length ?? 0;
  const seconds = (performance.now() - start) / 1000;
  return { rate: EVENTS / seconds, matches };
}

const batches = trades();
run(PATTERN, "rising", batches.slice(0, 200));
run(FILTER, "large", batches.slice(0, 200));
let best = { rate: 0, matches: 0 };
let baseline = 0;
for (let round = 0; round < ROUNDS; round++) {
  const pattern = run(PATTERN, "rising", batches);
  if (pattern.rate > best.rate) best = pattern;
  baseline = Math.max(baseline, run(FILTER, "large", batches).rate);
}

printTable("engine-pattern: 1M trades, fby{200 ms}(e1, e2, e3) with unification on symbol", [
  { window: "pattern", "events/s": best.rate, matches: best.matches },
  { window: "filter (baseline)", "events/s": baseline, matches: 0 },
]);
emit({
  bench: "engine-pattern",
  metric: "pattern",
  value: Math.round(best.rate),
  unit: "events/s",
  baseline: Math.round(baseline),
});
