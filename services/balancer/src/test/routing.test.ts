import { hashRow, rowsToBatch, shardOf } from "@espmesh/events";
import { moduloOwners } from "@espmesh/routing";
import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type Mesh, publishAll, publishRequest, startMesh, tradeRows, tradeSchema } from "./harness.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const ids = ["worker-a", "worker-b", "worker-c"];

function shardOfId(id: number, shardCount = 4096): number {
  const batch = rowsToBatch(tradeSchema, [{ id, symbol: "x", value: 0 }]);
  return shardOf(hashRow(batch, [0], 0), shardCount);
}

async function publishBatches(m: Mesh, batches: number, size: number) {
  const requests = Array.from({ length: batches }, (_, i) => publishRequest(tradeRows(i * size, size), i + 1));
  return publishAll(m.client, requests);
}

describe("balancer routing over real gRPC workers", () => {
  it("consistent-hash sends every row exactly once, to the worker that owns its shard", async () => {
    mesh = await startMesh({ workers: ids });
    await mesh.settled();
    const owners = mesh.balancer.owners();
    const responses = await publishBatches(mesh, 20, 100);
    expect(responses.map((r) => r.result.case)).toEqual(Array(20).fill("ack"));
    expect(responses.every((r) => r.result.case === "ack" && r.result.value.accepted === 100)).toBe(true);
    const seen = new Map<number, string>();
    for (const worker of mesh.workers.values()) {
      for (const batch of worker.received) {
        for (const row of batch.rows) {
          const id = row.id as number;
          expect(seen.has(id)).toBe(false);
          seen.set(id, worker.id);
          expect(owners[shardOfId(id)]).toBe(worker.id);
        }
      }
    }
    expect(seen.size).toBe(2000);
    expect(new Set(seen.values()).size).toBe(3);
  });

  it("hash sends a row to worker (shard mod N) of the workers sorted by id", async () => {
    mesh = await startMesh({
      workers: ["w2", "w0", "w1"],
      sources: [{ name: "trades", schema: tradeSchema, routing: { policy: "hash" } }],
    });
    await mesh.settled();
    await publishBatches(mesh, 10, 100);
    const expected = moduloOwners(["w0", "w1", "w2"], 4096);
    let rows = 0;
    for (const worker of mesh.workers.values()) {
      for (const batch of worker.received) {
        for (const row of batch.rows) {
          expect(["w0", "w1", "w2"][expected[shardOfId(row.id as number)]!]).toBe(worker.id);
          rows++;
        }
      }
    }
    expect(rows).toBe(1000);
  });

  it("hash fields other than the key place rows by those fields", async () => {
    mesh = await startMesh({
      workers: ids,
      sources: [{ name: "trades", schema: tradeSchema, routing: { hashFields: ["symbol"] } }],
    });
    await mesh.settled();
    await publishBatches(mesh, 10, 100);
    const workerOfSymbol = new Map<string, string>();
    for (const worker of mesh.workers.values()) {
      for (const batch of worker.received) {
        for (const row of batch.rows) {
          const symbol = row.symbol as string;
          expect(workerOfSymbol.get(symbol) ?? worker.id).toBe(worker.id);
          workerOfSymbol.set(symbol, worker.id);
        }
      }
    }
    expect(workerOfSymbol.size).toBe(5);
  });

  it("round-robin sends each batch whole to the next worker in id order", async () => {
    mesh = await startMesh({
      workers: ids,
      sources: [{ name: "trades", schema: tradeSchema, routing: { policy: "round-robin" } }],
    });
    await waitReady(mesh, 3);
    const responses = await publishBatches(mesh, 9, 50);
    expect(responses.every((r) => r.result.case === "ack")).toBe(true);
    const order: [number, string][] = [];
    for (const worker of mesh.workers.values()) {
      for (const batch of worker.received) {
        expect(batch.rows).toHaveLength(50);
        order.push([batch.seq, worker.id]);
      }
    }
    order.sort((a, b) => a[0] - b[0]);
    const workers = order.map(([, id]) => id);
    expect(workers).toHaveLength(9);
    const first = ids.indexOf(workers[0]!);
    expect(workers).toEqual(workers.map((_, i) => ids[(first + i) % 3]));
  });

  it("multicast sends every batch whole to every worker", async () => {
    mesh = await startMesh({
      workers: ids,
      sources: [{ name: "trades", schema: tradeSchema, routing: { policy: "multicast" } }],
    });
    await waitReady(mesh, 3);
    const responses = await publishBatches(mesh, 5, 40);
    expect(responses.every((r) => r.result.case === "ack" && r.result.value.accepted === 40)).toBe(true);
    for (const worker of mesh.workers.values()) {
      expect(worker.received.map((batch) => [batch.seq, batch.rows.length])).toEqual([
        [1, 40],
        [2, 40],
        [3, 40],
        [4, 40],
        [5, 40],
      ]);
    }
  });
});

async function waitReady(m: Mesh, count: number): Promise<void> {
  await waitFor(() => m.balancer.stats().workers.filter((worker) => worker.state === "ready").length === count, {
    message: `${count} ready workers`,
  });
}
