/**
 * A balancer killed with SIGKILL mid-stream loses nothing and counts nothing twice: the SDK
 * publisher reconnects to the balancer started in its place and sends every unacknowledged batch
 * again with its original origin; the workers have already applied and committed them and skip
 * them by their shards' watermarks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@espmesh/client";
import { parseSchemaString } from "@espmesh/events";
import { freePort } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalMesh, startLocalMesh } from "../support/local-mesh.js";
import { bySymbol, runInOneProcess, TOTALS_PROJECT, TRADES_SCHEMA, trades } from "../support/trades.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const EVENTS = 60_000;
const SYMBOLS = 1_000;
const ROUTING = { policy: "consistent-hash", hashFields: ["symbol"] };

let mesh: LocalMesh | undefined;
const balancers: ChildProcess[] = [];
afterEach(async () => {
  for (const child of balancers.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await mesh?.stop();
  mesh = undefined;
});

/** The balancer as its own process on `port`, following the mesh's registry; resolves once it listens. */
async function startBalancerProcess(registryAddress: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "services/balancer/src/main.ts")], {
    env: {
      ...process.env,
      ESPMESH_DEPLOYMENT_JSON: JSON.stringify({
        project: "trades",
        sources: [{ name: "trades", schema: TRADES_SCHEMA, routing: ROUTING }],
      }),
      ESPMESH_REGISTRY_ADDRESS: registryAddress,
      ESPMESH_BALANCER_ADDRESS: `127.0.0.1:${port}`,
      ESPMESH_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  balancers.push(child);
  await new Promise<void>((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error("the balancer did not start within 30 s")), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes(`:${port}`)) {
        clearTimeout(timer);
        resolveStart();
      }
    });
    child.once("exit", (code) => reject(new Error(`the balancer exited (${code}) before it listened`)));
  });
  return child;
}

describe("balancer loss", () => {
  it("a balancer killed with -9 mid-stream and a new one on its address change nothing in the final table", async () => {
    mesh = await startLocalMesh({
      project: "trades",
      projectText: TOTALS_PROJECT,
      settings: { routing: { trades: ROUTING }, state: "service" },
      sources: [
        { name: "trades", schema: TRADES_SCHEMA, routing: { policy: "consistent-hash", hashFields: ["symbol"] } },
      ],
      workers: 2,
      checkpointIntervalMs: 50,
    });
    // This test drives its own balancer process; the mesh's in-process one steps aside first.
    await mesh.balancer.stop();
    const port = await freePort();
    const first = await startBalancerProcess(mesh.registryAddress, port);
    const address = `127.0.0.1:${port}`;
    const client = createClient({ address, balancerAddress: address });
    const publisher = client.publisher("trades", "trades", {
      schema: parseSchemaString(TRADES_SCHEMA),
      maxUnacked: 16,
      reconnectDelayMs: 50,
    });
    for (let start = 1; start <= EVENTS; start += 1000) {
      await publisher.publish(trades(start, 1000, SYMBOLS));
      if (start === 20_001) {
        // Frozen, the balancer still holds its streams: the workers apply and commit what it sent
        // them, but no acknowledgement reaches the publisher. So every batch the publisher sends
        // again after the kill is one the workers already committed, and must skip.
        first.kill("SIGSTOP");
        await new Promise((resolveWait) => setTimeout(resolveWait, 500));
        first.kill("SIGKILL");
        await startBalancerProcess(mesh.registryAddress, port);
      }
    }
    await publisher.close();
    expect(first.signalCode).toBe("SIGKILL");

    const actual = bySymbol(await client.query("trades", "totals"));
    client.close();
    expect(actual).toEqual(runInOneProcess(TOTALS_PROJECT, "totals", EVENTS, SYMBOLS));
  }, 120_000);
});
