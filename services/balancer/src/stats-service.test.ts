import * as pb from "@espmesh/proto";
import { afterEach, describe, expect, it } from "vitest";
import { type Mesh, publishAll, publishRequest, startMesh, tradeRows } from "./test/harness.js";

let mesh: Mesh | undefined;
let stats: pb.ServiceClient<typeof pb.BalancerService> | undefined;
afterEach(async () => {
  stats?.close();
  await mesh?.close();
  mesh = stats = undefined;
});

describe("BalancerService.Stats", () => {
  it("reports events in and out, the rate, in-flight, shard moves and each worker's shards over gRPC", async () => {
    mesh = await startMesh({ workers: ["w1"], shardCount: 64 });
    await mesh.settled();
    await mesh.addWorker("w2");
    await mesh.settled(2);
    stats = pb.createServiceClient(pb.BalancerService, mesh.balancer.address!);

    const idle = await stats.stats({});
    expect(idle.state).toBe("running");
    expect(idle.eventsIn).toBe(0n);
    expect(idle.eventsPerSecond).toBe(0);
    expect(idle.workers.map((worker) => worker.id).sort()).toEqual(["w1", "w2"]);
    expect(idle.workers.reduce((sum, worker) => sum + worker.shards, 0)).toBe(64);
    // The first worker's 64 shards were assigned, not moved; the second took its share from it.
    const w2 = idle.workers.find((worker) => worker.id === "w2");
    expect(w2?.shards).toBeGreaterThan(0);
    expect(idle.shardMoves).toBe(BigInt(w2?.shards ?? 0));
    const movesBefore = idle.shardMoves;

    const responses = await publishAll(
      mesh.client,
      Array.from({ length: 5 }, (_, i) => publishRequest(tradeRows(i * 100, 100), i + 1)),
    );
    expect(responses.every((response) => response.result.case === "ack")).toBe(true);
    const busy = await stats.stats({});
    expect(busy.eventsIn).toBe(500n);
    expect(busy.eventsOut).toBe(500n);
    expect(busy.eventsPerSecond).toBeGreaterThan(0);
    // Every origin was acked, so nothing is in flight or outstanding.
    expect(busy.inFlightEvents).toBe(0n);
    expect(busy.outstanding).toBe(0n);
    expect(busy.heldEvents).toBe(0n);
    expect(busy.inputLag).toEqual([]);

    await mesh.addWorker("w3");
    await mesh.settled(3);
    const grown = await stats.stats({});
    const owned = grown.workers.map((worker) => worker.shards);
    expect(owned.reduce((sum, shards) => sum + shards, 0)).toBe(64);
    // The new member took roughly a third of the shards, and those are the moves counted.
    const w3 = grown.workers.find((worker) => worker.id === "w3");
    expect(w3?.shards).toBeGreaterThan(0);
    expect(grown.shardMoves - movesBefore).toBe(BigInt(w3?.shards ?? 0));
  });
});
