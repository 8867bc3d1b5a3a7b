/**
 * The trades workload shared by cross-service tests and benchmarks: one schema, deterministic
 * generated trades, and the projects that run over them (ESP XML, as users bring them).
 */
import { createEngine, loadProject } from "@espmesh/engine";
import { batchToRows, parseSchemaString, type Row, rowsToBatch } from "@espmesh/events";

/** The trades source window's schema. */
export const TRADES_SCHEMA = "id*:int64,symbol:string,price:double,quantity:int32";

/** An ESP XML project: an insert-only trades source feeding `extra` windows (XML) over edges. */
export function tradesProject(name: string, windows: string, edges: readonly [string, string][]): string {
  return `
<project name="${name}">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" insert-only="true" index="pi_EMPTY">
          <schema-string>${TRADES_SCHEMA}</schema-string>
        </window-source>
${windows}
      </windows>
      <edges>${edges.map(([source, target]) => `<edge source="${source}" target="${target}"/>`).join("")}</edges>
    </contquery>
  </contqueries>
</project>`;
}

/** Trades → `totals`: volume, trade count and highest price per symbol. */
export const TOTALS_PROJECT = tradesProject(
  "trades",
  `        <window-aggregate name="totals">
          <schema-string>symbol*:string,volume:int64,trades:int64,high:double</schema-string>
          <output>
            <field-expr>ESP_aSum(quantity)</field-expr>
            <field-expr>ESP_aCount()</field-expr>
            <field-expr>ESP_aMax(price)</field-expr>
          </output>
        </window-aggregate>`,
  [["trades", "totals"]],
);

/** Trades → `large`: the trades of 10 or more, stateless. */
export const LARGE_TRADES_PROJECT = tradesProject(
  "alerts",
  `        <window-filter name="large" index="pi_EMPTY">
          <expression>quantity &gt;= 10</expression>
        </window-filter>`,
  [["trades", "large"]],
);

/** Trade number `i` (from 1) over `symbols` symbols; the same `i` always gives the same trade. */
export function trade(i: number, symbols = 4000): Row {
  return {
    id: i,
    symbol: `S${(i * 7919) % symbols}`,
    price: ((i * 31) % 10_000) / 100,
    quantity: (i % 97) + 1,
  };
}

/** Trades `start` .. `start + count - 1`. */
export function trades(start: number, count: number, symbols = 4000): Row[] {
  return Array.from({ length: count }, (_, k) => trade(start + k, symbols));
}

/** Final rows of `window` when `events` trades run through `project` in one engine (what `espmesh run` gives). */
export function runInOneProcess(project: string, window: string, events: number, symbols = 4000): Row[] {
  const engine = createEngine(loadProject(project), { routing: { trades: ["symbol"] } });
  const schema = parseSchemaString(TRADES_SCHEMA);
  for (let start = 1; start <= events; start += 1000) {
    engine.process("trades", rowsToBatch(schema, trades(start, Math.min(1000, events - start + 1), symbols)));
  }
  return bySymbol(batchToRows(engine.query(window)));
}

/** Rows sorted by their `symbol` field. */
export function bySymbol(rows: Row[]): Row[] {
  return rows.sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)));
}
