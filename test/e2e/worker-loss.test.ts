/**
 * Worker loss beyond the exactness test: a stateless project under round-robin whose worker is
 * killed mid-stream (every event still comes out), and a worker drained with SIGTERM under load
 * (it exits 0 and nothing is lost).
 */
import { createClient } from "@espmesh/client";
import { parseSchemaString, type Row } from "@espmesh/events";
import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalMesh, startLocalMesh } from "../support/local-mesh.js";
import {
  bySymbol,
  LARGE_TRADES_PROJECT,
  runInOneProcess,
  TOTALS_PROJECT,
  TRADES_SCHEMA,
  trades,
} from "../support/trades.js";

function rows(start: number, count: number): Row[] {
  return trades(start, count, 500);
}

let mesh: LocalMesh | undefined;
afterEach(async () => {
  await mesh?.stop();
  mesh = undefined;
});

describe("worker loss", () => {
  it("stateless round-robin: after a worker is killed every event comes out at least once, once by key", async () => {
    const EVENTS = 30_000;
    mesh = await startLocalMesh({
      project: "alerts",
      projectText: LARGE_TRADES_PROJECT,
      settings: { routing: { trades: { policy: "round-robin" } }, state: "none" },
      sources: [{ name: "trades", schema: TRADES_SCHEMA, routing: { policy: "round-robin" } }],
      workers: 3,
    });
    const client = createClient({ address: mesh.balancerAddress, balancerAddress: mesh.balancerAddress });
    const seen = new Map<number, number>();
    const stop = new AbortController();
    const following = (async () => {
      for await (const event of client.subscribe("alerts", "large", { signal: stop.signal })) {
        const id = event.fields.id as number;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    })();
    // Let the subscription reach every worker before publishing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const publisher = client.publisher("alerts", "trades", { schema: parseSchemaString(TRADES_SCHEMA), maxUnacked: 8 });
    for (let start = 1; start <= EVENTS; start += 500) {
      await publisher.publish(rows(start, 500));
      if (start === 10_001) mesh.workers[0]!.kill("SIGKILL");
    }
    await publisher.close();
    const expected = rows(1, EVENTS)
      .filter((row) => (row.quantity as number) >= 10)
      .map((row) => row.id as number);
    await waitFor(() => expected.every((id) => seen.has(id)), {
      timeoutMs: 30_000,
      message: "every large trade in the output",
    });
    stop.abort();
    await following;
    client.close();
    expect(new Set(seen.keys()).size).toBe(expected.length);
    expect([...seen.keys()].every((id) => (rows(id, 1)[0]!.quantity as number) >= 10)).toBe(true);
  }, 120_000);

  it("SIGTERM under load: the worker exits 0 and the final table is exact", async () => {
    const EVENTS = 60_000;
    mesh = await startLocalMesh({
      project: "trades",
      projectText: TOTALS_PROJECT,
      settings: { routing: { trades: { policy: "consistent-hash", hashFields: ["symbol"] } } },
      sources: [
        { name: "trades", schema: TRADES_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } },
      ],
      workers: 3,
      checkpointIntervalMs: 50,
    });
    const client = createClient({ address: mesh.balancerAddress, balancerAddress: mesh.balancerAddress });
    const publisher = client.publisher("trades", "trades", { schema: parseSchemaString(TRADES_SCHEMA), maxUnacked: 8 });
    const drained = mesh.workers[1]!;
    for (let start = 1; start <= EVENTS; start += 1000) {
      await publisher.publish(rows(start, 1000));
      if (start === 20_001) drained.kill("SIGTERM");
    }
    await publisher.close();
    expect(await drained.exited).toBe(0);

    const actual = bySymbol(await client.query("trades", "totals"));
    client.close();
    expect(actual).toEqual(runInOneProcess(TOTALS_PROJECT, "totals", EVENTS, 500));
  }, 120_000);
});
