import { batchToRows, createSchemaCache, decodeBatch, type Row } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type Mesh, publishAll, publishRequest, startMesh, tradeRows, tradeSchema } from "./harness.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

/** Reads a subscription in the background into `rows` until `stop()`. */
function collect(m: Mesh, window: string, snapshot = false) {
  const rows: Row[] = [];
  const controller = new AbortController();
  const cache = createSchemaCache();
  const reading = (async () => {
    try {
      for await (const response of m.client.subscribe(
        { project: "trades", window, snapshot },
        { signal: controller.signal },
      )) {
        if (response.batch) rows.push(...batchToRows(decodeBatch(response.batch, cache)));
      }
    } catch (error) {
      if (MeshError.from(error).code !== "CANCELLED") throw error;
    }
  })();
  return {
    rows,
    async stop() {
      controller.abort();
      await reading;
    },
  };
}

/** Resolves when every worker has a Subscribe stream open. */
async function subscribed(m: Mesh): Promise<void> {
  await waitFor(() => [...m.workers.values()].every((worker) => worker.subscriberCount > 0), {
    message: "every worker to be subscribed",
  });
}

const ids = (rows: readonly Row[]) => rows.map((row) => row.id as number).sort((a, b) => a - b);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("subscriptions and queries across workers", () => {
  it("Subscribe merges every worker's output and picks up a worker that joins", async () => {
    mesh = await startMesh({ workers: ["w1", "w2"] });
    await mesh.settled();
    const subscription = collect(mesh, "trades");
    await subscribed(mesh);
    await publishAll(mesh.client, [publishRequest(tradeRows(0, 300), 1)]);
    await waitFor(() => subscription.rows.length === 300, { message: "300 rows through the subscription" });
    await mesh.addWorker("w3");
    await mesh.settled(3);
    await subscribed(mesh);
    await publishAll(mesh.client, [publishRequest(tradeRows(300, 300), 2)]);
    await waitFor(() => subscription.rows.length === 600, { message: "600 rows through the subscription" });
    await subscription.stop();
    expect(ids(subscription.rows)).toEqual(range(0, 600));
    expect(mesh.workers.get("w3")!.received.length).toBeGreaterThan(0);
  });

  it("Subscribe with snapshot sends the current rows first", async () => {
    mesh = await startMesh({ workers: ["w1", "w2"] });
    await mesh.settled();
    await publishAll(mesh.client, [publishRequest(tradeRows(0, 50), 1)]);
    const subscription = collect(mesh, "trades", true);
    await waitFor(() => subscription.rows.length === 50, { message: "the snapshot rows" });
    await subscribed(mesh);
    await publishAll(mesh.client, [publishRequest(tradeRows(50, 10), 2)]);
    await waitFor(() => subscription.rows.length === 60, { message: "the live rows" });
    await subscription.stop();
    expect(ids(subscription.rows.slice(0, 50))).toEqual(range(0, 50));
    expect(ids(subscription.rows.slice(50))).toEqual(range(50, 10));
  });

  it("QueryWindow merges the workers' rows and applies the limit", async () => {
    mesh = await startMesh({ workers: ["w1", "w2", "w3"] });
    await mesh.settled();
    await publishAll(mesh.client, [publishRequest(tradeRows(0, 200), 1)]);
    const all = await mesh.client.queryWindow({ project: "trades", window: "trades", limit: 0 });
    expect(ids(batchToRows(decodeBatch(all.rows!)))).toEqual(range(0, 200));
    const some = await mesh.client.queryWindow({ project: "trades", window: "trades", limit: 10 });
    expect(some.rows?.count).toBe(10);
  });

  it("a multicast-fed (replicated) window appears once in queries and subscriptions", async () => {
    mesh = await startMesh({
      workers: ["w1", "w2", "w3"],
      sources: [{ name: "symbols", schema: tradeSchema, routing: { policy: "multicast" } }],
      worker: { replicatedWindows: ["symbols"] },
    });
    await waitFor(() => mesh!.balancer.stats().workers.filter((w) => w.state === "ready").length === 3);
    const subscription = collect(mesh, "symbols");
    await subscribed(mesh);
    await publishAll(mesh.client, [publishRequest(tradeRows(0, 30), 1, { window: "symbols" })]);
    for (const worker of mesh.workers.values()) expect(worker.received).toHaveLength(1);
    const result = await mesh.client.queryWindow({ project: "trades", window: "symbols", limit: 0 });
    expect(ids(batchToRows(decodeBatch(result.rows!)))).toEqual(range(0, 30));
    await waitFor(() => subscription.rows.length >= 30, { message: "the subscription to get the rows" });
    await publishAll(mesh.client, [publishRequest(tradeRows(30, 1), 2, { window: "symbols" })]);
    await waitFor(() => subscription.rows.some((row) => row.id === 30), { message: "the next batch" });
    await subscription.stop();
    expect(ids(subscription.rows)).toEqual(range(0, 31));
  });

  it("QueryWindow names an unknown project", async () => {
    mesh = await startMesh({ workers: ["w1"] });
    await mesh.settled();
    await expect(mesh.client.queryWindow({ project: "nope", window: "trades", limit: 0 })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
