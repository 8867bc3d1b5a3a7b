/**
 * The two-stage cascade of the cascade test and benchmark (DESIGN §9), on real NATS and Redis:
 *
 * - stage 1 (`stage1`): trades → `large` (filter: quantity > 600) → `cost` (compute: price ×
 *   quantity), routed by symbol; `cost` is bound to the subject `stage1.cost` (stream COST).
 * - stage 2 (`stage2`): its source `large` reads COST through the durable `stage2-large`;
 *   `bySymbol` aggregates by symbol and `surge` (a pattern) alerts when a big trade of a symbol is
 *   followed by a bigger-priced big trade; `surge` is bound to `stage2.alerts` (stream ALERTS).
 *
 * `referenceRun` computes the same in one process: the stage-1 engine's outputs fed into a stage-2
 * engine, what `espmesh run` over both projects gives.
 */
import { createEngine, loadProject } from "@espmesh/engine";
import { type Batch, batchToRows, parseSchemaString, type Row, rowsToBatch } from "@espmesh/events";
import { type NatsServer, type RedisServer, waitFor } from "@espmesh/testing";
import { type LocalMesh, startLocalMesh } from "./local-mesh.js";

/** The trades schema of stage 1's source window. */
export const TRADES_SCHEMA = "id*:int64,symbol:string,price:double,quantity:int32,time:stamp";
/** The schema of stage 1's `cost` window, which is stage 2's source `large`. */
export const COST_SCHEMA = "id*:int64,symbol:string,price:double,quantity:int32,time:stamp,cost:double";
/** The schema of stage 2's pattern window `surge`, published to ALERTS. */
export const ALERT_SCHEMA = "id*:int64,symbol:string,p1:double,p2:double";
/** Shards of both deployments: few, so that each (shard, origin) message carries several events. */
export const SHARDS = Number(process.env.CASCADE_SHARDS ?? 64);
const SYMBOLS = 100;

export const STAGE1 = `
<project name="stage1">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" insert-only="true" index="pi_EMPTY">
          <schema-string>${TRADES_SCHEMA}</schema-string>
        </window-source>
        <window-filter name="large" index="pi_EMPTY">
          <expression>quantity &gt; 600</expression>
        </window-filter>
        <window-compute name="cost" index="pi_EMPTY">
          <schema-string>${COST_SCHEMA}</schema-string>
          <output>
            <field-expr>symbol</field-expr>
            <field-expr>price</field-expr>
            <field-expr>quantity</field-expr>
            <field-expr>time</field-expr>
            <field-expr>price * quantity</field-expr>
          </output>
        </window-compute>
      </windows>
      <edges>
        <edge source="trades" target="large"/>
        <edge source="large" target="cost"/>
      </edges>
    </contquery>
  </contqueries>
</project>`;

export const STAGE2 = `
<project name="stage2">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="large" insert-only="true" index="pi_EMPTY">
          <schema-string>${COST_SCHEMA}</schema-string>
        </window-source>
        <window-aggregate name="bySymbol">
          <schema-string>symbol*:string,trades:int64,volume:int64,cost:double,high:double</schema-string>
          <output>
            <field-expr>ESP_aCount()</field-expr>
            <field-expr>ESP_aSum(quantity)</field-expr>
            <field-expr>ESP_aSum(cost)</field-expr>
            <field-expr>ESP_aMax(price)</field-expr>
          </output>
        </window-aggregate>
        <window-pattern name="surge" max-partial-matches="50">
          <schema-string>${ALERT_SCHEMA}</schema-string>
          <patterns>
            <pattern>
              <events>
                <event source="large" name="e1">s==symbol and p1==price and quantity &gt;= 950</event>
                <event source="large" name="e2">s==symbol and quantity &gt;= 950 and price &gt; p1</event>
              </events>
              <logic>fby(e1, e2)</logic>
              <output>
                <field-selection name="symbol" node="e1"/>
                <field-selection name="price" node="e1"/>
                <field-selection name="price" node="e2"/>
              </output>
              <timefields><timefield field="time" source="large"/></timefields>
            </pattern>
          </patterns>
        </window-pattern>
      </windows>
      <edges>
        <edge source="large" target="bySymbol"/>
        <edge source="large" target="surge"/>
      </edges>
    </contquery>
  </contqueries>
</project>`;

/** Trade `i` (1-based): prices in quarters so that every cost and sum is exact. */
export function trade(i: number): Row {
  return {
    id: i,
    symbol: `S${(i * 7919) % SYMBOLS}`,
    price: ((i * 31) % 10_000) / 4,
    quantity: ((i * 13) % 1000) + 1,
    time: i * 1000,
  };
}

/** Trades `from..to` (inclusive) as rows. */
export function trades(from: number, to: number): Row[] {
  return Array.from({ length: to - from + 1 }, (_, k) => trade(from + k));
}

/** What both stages compute in one process: stage 2's table and its alerts (without their keys). */
export interface CascadeResult {
  readonly bySymbol: Row[];
  readonly alerts: string[];
  /** Ids of stage 1's cost events, ascending. */
  readonly costIds: number[];
}

/** Runs `events` trades in batches of `batchSize` through a stage-1 engine and its outputs through a stage-2 engine. */
export function referenceRun(events: number, batchSize: number): CascadeResult {
  const stage1 = createEngine(loadProject(STAGE1), { shardCount: SHARDS, routing: { trades: ["symbol"] } });
  const stage2 = createEngine(loadProject(STAGE2), { shardCount: SHARDS, routing: { large: ["symbol"] } });
  const schema = parseSchemaString(TRADES_SCHEMA);
  const alerts: string[] = [];
  const costIds: number[] = [];
  for (let start = 1; start <= events; start += batchSize) {
    const cost = stage1.process("trades", rowsToBatch(schema, trades(start, Math.min(events, start + batchSize - 1))));
    const out = cost.get("cost");
    if (out === undefined) continue;
    for (const row of batchToRows(out)) costIds.push(Number(row.id));
    const surge = stage2.process("large", out).get("surge");
    if (surge !== undefined) alerts.push(...alertKeys(surge));
  }
  return {
    bySymbol: sortBySymbol(batchToRows(stage2.query("bySymbol"))),
    alerts: alerts.sort(),
    costIds: costIds.sort((a, b) => a - b),
  };
}

/** Alerts as comparable strings, without their autogenerated keys (those depend on shard order). */
export function alertKeys(batch: Batch): string[] {
  return batchToRows(batch).map((row) => `${row.symbol}:${row.p1}:${row.p2}`);
}

/** Rows sorted by symbol. */
export function sortBySymbol(rows: Row[]): Row[] {
  return rows.sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)));
}

/** Both stages running. */
export interface Cascade {
  readonly stage1: LocalMesh;
  readonly stage2: LocalMesh;
  stop(): Promise<void>;
}

/** Options of {@link startCascade}. */
export interface CascadeOptions {
  readonly nats: NatsServer;
  readonly redis: RedisServer;
  readonly stage1Workers: number;
  readonly stage2Workers: number;
  /** Checkpoint interval of stage 2's workers. @default 50 */
  readonly checkpointIntervalMs?: number;
  /**
   * Checkpoint interval of stage 1's workers; a long one leaves more outputs stored but not
   * committed when a worker dies, all of them republished by its successor. @default 50
   */
  readonly stage1CheckpointIntervalMs?: number;
}

/** Starts stage 2 (which creates the COST stream and its durable), then stage 1, sharing NATS and Redis. */
export async function startCascade(options: CascadeOptions): Promise<Cascade> {
  const common = {
    natsUrl: options.nats.url,
    redis: options.redis,
    shardCount: SHARDS,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 50,
  };
  const stage2 = await startLocalMesh({
    ...common,
    project: "stage2",
    projectText: STAGE2,
    settings: {
      routing: { large: { policy: "consistent-hash", hashFields: ["symbol"] } },
      state: "service",
      bindings: {
        inputs: { large: { stream: "COST", subject: "stage1.cost", durable: "stage2-large" } },
        outputs: { surge: { subject: "stage2.alerts", stream: "ALERTS" } },
      },
    },
    sources: [{ name: "large", schema: COST_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } }],
    workers: options.stage2Workers,
  });
  let stage1: LocalMesh;
  try {
    stage1 = await startLocalMesh({
      ...common,
      checkpointIntervalMs: options.stage1CheckpointIntervalMs ?? common.checkpointIntervalMs,
      project: "stage1",
      projectText: STAGE1,
      settings: {
        routing: { trades: { policy: "consistent-hash", hashFields: ["symbol"] } },
        state: "service",
        bindings: { outputs: { cost: { subject: "stage1.cost", stream: "COST" } } },
      },
      sources: [
        { name: "trades", schema: TRADES_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } },
      ],
      workers: options.stage1Workers,
    });
  } catch (error) {
    await stage2.stop();
    throw error;
  }
  try {
    await Promise.all([settled(stage1, options.stage1Workers), settled(stage2, options.stage2Workers)]);
  } catch (error) {
    await stage1.stop();
    await stage2.stop();
    throw error;
  }
  return {
    stage1,
    stage2,
    async stop() {
      await stage1.stop();
      await stage2.stop();
    },
  };
}

/** Waits until every shard of a stage has an owner and `workers` workers own some. */
export async function settled(stage: LocalMesh, workers: number): Promise<void> {
  await waitFor(
    () => {
      const owners = stage.balancer.owners();
      return owners.every((owner) => owner !== undefined) && new Set(owners).size === workers;
    },
    { timeoutMs: 30_000, intervalMs: 50, message: `${workers} workers to own the shards` },
  );
}
