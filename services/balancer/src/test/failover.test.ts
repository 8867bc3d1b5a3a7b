import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { inBackground, type Mesh, publishAll, publishRequest, startMesh, tradeRows } from "./harness.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const BATCHES = 20;
const SIZE = 100;
const total = (BATCHES * SIZE * (BATCHES * SIZE - 1)) / 2;

describe("worker loss", () => {
  it("re-sends a killed worker's uncommitted batches to the new owners of its shards; totals stay exact", async () => {
    mesh = await startMesh({ workers: ["w1", "w2", "w3"] });
    await mesh.settled();
    const m = mesh;
    const victim = m.workers.get("w2")!;
    const victimShards = new Set(victim.owned);
    victim.stall(true);
    const publishing = inBackground(
      publishAll(
        m.client,
        Array.from({ length: BATCHES }, (_, i) => publishRequest(tradeRows(i * SIZE, SIZE), i + 1)),
      ),
    );
    await waitFor(() => victim.received.length === BATCHES, { message: "the victim to receive every batch" });
    const uncommitted = new Set(victim.received.flatMap((batch) => batch.rows.map((row) => row.id as number)));
    expect(uncommitted.size).toBeGreaterThan(0);
    const receivedBefore = new Map([...m.workers.values()].map((worker) => [worker.id, worker.received.length]));
    victim.kill();
    m.setMembers([{ id: "w1" }, { id: "w3" }]);

    const responses = await publishing;
    expect(responses).toHaveLength(BATCHES);
    expect(responses.every((r) => r.result.case === "ack" && r.result.value.accepted === SIZE)).toBe(true);
    // The victim's rows reached the survivors after the kill, and every survivor now owns some of its shards.
    const resent = new Set<number>();
    for (const id of ["w1", "w3"]) {
      const worker = m.workers.get(id)!;
      for (const batch of worker.received.slice(receivedBefore.get(id))) {
        for (const row of batch.rows) resent.add(row.id as number);
      }
      expect([...victimShards].some((shard) => worker.owned.has(shard))).toBe(true);
    }
    for (const id of uncommitted) expect(resent.has(id)).toBe(true);
    expect(m.store.total()).toEqual({ sum: total, count: BATCHES * SIZE });
  });

  it("treats a worker whose stream broke as lost even while the registry still lists it", async () => {
    mesh = await startMesh({ workers: ["w1", "w2"], balancer: { reconnect: { initialMs: 50, maxMs: 200 } } });
    await mesh.settled();
    const m = mesh;
    m.workers.get("w1")!.stall(true);
    const publishing = inBackground(
      publishAll(
        m.client,
        Array.from({ length: 5 }, (_, i) => publishRequest(tradeRows(i * SIZE, SIZE), i + 1)),
      ),
    );
    await waitFor(() => m.workers.get("w1")!.received.length === 5, { message: "w1 to receive every batch" });
    m.workers.get("w1")!.kill();
    const responses = await publishing;
    expect(responses.every((r) => r.result.case === "ack")).toBe(true);
    expect(m.store.total().count).toBe(5 * SIZE);
    expect(m.balancer.owners().every((owner) => owner === "w2")).toBe(true);
  });
});
