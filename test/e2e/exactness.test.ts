/**
 * The exactness test, the bar for the whole data path: trades published through the balancer to
 * three worker processes checkpointing to the Redis-backed state service; one worker is killed
 * with SIGKILL mid-stream and a new one started later. The final aggregate table must equal that
 * of the same input run in one process: nothing missing, nothing counted twice.
 */
import { createClient } from "@espmesh/client";
import { parseSchemaString } from "@espmesh/events";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalMesh, startLocalMesh } from "../support/local-mesh.js";
import { bySymbol, runInOneProcess, TOTALS_PROJECT, TRADES_SCHEMA, trades } from "../support/trades.js";

const EVENTS = 200_000;
const SYMBOLS = 4_000;

let mesh: LocalMesh | undefined;
afterEach(async () => {
  await mesh?.stop();
  mesh = undefined;
});

describe.each(["consistent-hash", "hash"])("exactness under %s", (policy) => {
  it("a worker killed with -9 mid-stream and a new one started later change nothing in the final table", async () => {
    mesh = await startLocalMesh({
      project: "trades",
      projectText: TOTALS_PROJECT,
      settings: { routing: { trades: { policy, hashFields: ["symbol"] } }, state: "service" },
      sources: [
        { name: "trades", schema: TRADES_SCHEMA, routing: { policy: policy as "hash", hashFields: ["symbol"] } },
      ],
      workers: 3,
      checkpointIntervalMs: 50,
    });
    const client = createClient({ address: mesh.balancerAddress, balancerAddress: mesh.balancerAddress });
    const publisher = client.publisher("trades", "trades", {
      schema: parseSchemaString(TRADES_SCHEMA),
      maxRows: 1000,
      maxUnacked: 16,
    });
    const victim = mesh.workers[0]!;
    for (let start = 1; start <= EVENTS; start += 1000) {
      await publisher.publish(trades(start, 1000, SYMBOLS));
      if (start === 70_001) victim.kill("SIGKILL");
      if (start === 140_001) await mesh.startWorker();
    }
    await publisher.close();
    expect(await victim.exited).toBe("SIGKILL");

    const actual = bySymbol(await client.query("trades", "totals"));
    client.close();
    expect(actual.length).toBe(SYMBOLS);
    expect(actual).toEqual(runInOneProcess(TOTALS_PROJECT, "totals", EVENTS, SYMBOLS));
  }, 180_000);
});
