/**
 * The exactness test, the bar for the whole data path: trades published through the balancer to
 * three worker processes checkpointing to the Redis-backed state service; one worker is killed
 * with SIGKILL mid-stream and a new one started later. The final aggregate table must equal that
 * of the same input run in one process: nothing missing, nothing counted twice.
 */

import { createClient } from "@espmesh/client";
import { createEngine, loadProject } from "@espmesh/engine";
import { batchToRows, parseSchemaString, type Row, rowsToBatch } from "@espmesh/events";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalMesh, startLocalMesh } from "../support/local-mesh.js";

const PROJECT = `
<project name="trades">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" insert-only="true" index="pi_EMPTY">
          <schema-string>id*:int64,symbol:string,price:double,quantity:int32</schema-string>
        </window-source>
        <window-aggregate name="totals">
          <schema-string>symbol*:string,volume:int64,trades:int64,high:double</schema-string>
          <output>
            <field-expr>ESP_aSum(quantity)</field-expr>
            <field-expr>ESP_aCount()</field-expr>
            <field-expr>ESP_aMax(price)</field-expr>
          </output>
        </window-aggregate>
      </windows>
      <edges><edge source="trades" target="totals"/></edges>
    </contquery>
  </contqueries>
</project>`;

const SCHEMA = "id*:int64,symbol:string,price:double,quantity:int32";
const EVENTS = 200_000;
const SYMBOLS = 4_000;

function trade(i: number): Row {
  return { id: i, symbol: `S${(i * 7919) % SYMBOLS}`, price: ((i * 31) % 10_000) / 100, quantity: (i % 97) + 1 };
}

/** The same input through one engine in this process (what `espmesh run` computes). */
function expectedTotals(): Row[] {
  const engine = createEngine(loadProject(PROJECT), { routing: { trades: ["symbol"] } });
  const schema = parseSchemaString(SCHEMA);
  for (let start = 1; start <= EVENTS; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, EVENTS - start + 1) }, (_, k) => trade(start + k));
    engine.process("trades", rowsToBatch(schema, rows));
  }
  return sortBySymbol(batchToRows(engine.query("totals")));
}

function sortBySymbol(rows: Row[]): Row[] {
  return rows.sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)));
}

let mesh: LocalMesh | undefined;
afterEach(async () => {
  await mesh?.stop();
  mesh = undefined;
});

describe.each(["consistent-hash", "hash"])("exactness under %s", (policy) => {
  it("a worker killed with -9 mid-stream and a new one started later change nothing in the final table", async () => {
    mesh = await startLocalMesh({
      project: "trades",
      projectText: PROJECT,
      settings: { routing: { trades: { policy, hashFields: ["symbol"] } }, state: "service" },
      sources: [{ name: "trades", schema: SCHEMA, routing: { policy: policy as "hash", hashFields: ["symbol"] } }],
      workers: 3,
      checkpointIntervalMs: 50,
    });
    const client = createClient({ address: mesh.balancerAddress, balancerAddress: mesh.balancerAddress });
    const publisher = client.publisher("trades", "trades", {
      schema: parseSchemaString(SCHEMA),
      maxRows: 1000,
      maxUnacked: 16,
    });
    const victim = mesh.workers[0]!;
    for (let start = 1; start <= EVENTS; start += 1000) {
      const rows = Array.from({ length: Math.min(1000, EVENTS - start + 1) }, (_, k) => trade(start + k));
      await publisher.publish(rows);
      if (start === 70_001) victim.kill("SIGKILL");
      if (start === 140_001) await mesh.startWorker();
    }
    await publisher.close();
    expect(await victim.exited).toBe("SIGKILL");

    const actual = sortBySymbol(await client.query("trades", "totals"));
    client.close();
    const expected = expectedTotals();
    expect(actual.length).toBe(SYMBOLS);
    expect(actual).toEqual(expected);
  }, 180_000);
});
