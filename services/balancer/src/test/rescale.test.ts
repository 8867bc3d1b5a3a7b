import type * as pb from "@espmesh/proto";
import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { inBackground, type Mesh, publishAll, publishRequest, startMesh, tradeRows } from "./harness.js";
import type { TimelineEntry } from "./test-worker.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const SIZE = 200;

/** Publishes batches until `stop()`; `sent` counts the batches the stream has taken. */
function steadyPublisher(m: Mesh) {
  let stopped = false;
  let sent = 0;
  async function* requests(): AsyncIterable<pb.PublishRequest> {
    while (!stopped) {
      sent++;
      yield publishRequest(tradeRows(sent * SIZE, SIZE), sent);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const done = inBackground(publishAll(m.client, requests()));
  return {
    get sent() {
      return sent;
    },
    stop() {
      stopped = true;
      return done;
    },
  };
}

function batchesAt(timeline: readonly TimelineEntry[], from: number, to: number) {
  return timeline.slice(from, to).filter((entry) => entry.kind === "batch");
}

describe("adding a worker under load", () => {
  it("pauses only the shards that move to it; the others keep flowing during the hand-off", async () => {
    mesh = await startMesh({ workers: ["w1", "w2"] });
    await mesh.settled();
    const m = mesh;
    const before = m.balancer.owners();
    const publisher = steadyPublisher(m);
    await waitFor(() => publisher.sent > 20, { message: "the publisher to get going" });
    for (const worker of m.workers.values()) worker.holdReleases(true);

    const timeline = m.store.timeline;
    const joined = timeline.length;
    await m.addWorker("w3");
    const releaseStarts = () => timeline.slice(joined).filter((entry) => entry.kind === "release-start");
    await waitFor(() => releaseStarts().length === 2, { message: "both old owners to be asked to release" });
    const releaseStart = timeline.length;
    const moved = new Set(releaseStarts().flatMap((entry) => (entry.kind === "release-start" ? entry.shards : [])));
    // While the releases are held, traffic for every other shard keeps reaching w1 and w2.
    await waitFor(() => batchesAt(timeline, releaseStart, timeline.length).length >= 20, {
      message: "batches to keep flowing during the hand-off",
    });
    const duringHandoff = batchesAt(timeline, releaseStart, timeline.length);
    for (const entry of duringHandoff) {
      if (entry.kind !== "batch") continue;
      expect(entry.worker).not.toBe("w3");
      for (const shard of entry.shards) expect(moved.has(shard)).toBe(false);
    }
    expect(m.workers.get("w3")!.received).toHaveLength(0);

    for (const worker of m.workers.values()) worker.holdReleases(false);
    await waitFor(() => m.workers.get("w3")!.received.length > 5, { message: "w3 to get rows of its shards" });
    const responses = await publisher.stop();
    expect(responses.every((r) => r.result.case === "ack" && r.result.value.accepted === SIZE)).toBe(true);

    // The moved shards are exactly those whose owner changed, all of them now w3's.
    const after = m.balancer.owners();
    const changed = new Set(after.flatMap((owner, shard) => (owner === before[shard] ? [] : [shard])));
    expect(changed).toEqual(moved);
    for (const shard of moved) expect(after[shard]).toBe("w3");
    expect(moved.size).toBeLessThanOrEqual((1.1 * 4096) / 3);
    for (const batch of m.workers.get("w3")!.received)
      for (const shard of batch.shards) expect(moved.has(shard)).toBe(true);
    const published = publisher.sent;
    const count = responses.length * SIZE;
    expect(responses).toHaveLength(published);
    expect(m.store.total().count).toBe(count);
  });

  it("a terminating worker releases its shards (committed) to the others and is given nothing new", async () => {
    mesh = await startMesh({ workers: ["w1", "w2", "w3"] });
    await mesh.settled();
    const m = mesh;
    await publishAll(m.client, [publishRequest(tradeRows(0, 300), 1)]);
    const leaving = m.workers.get("w2")!;
    const itsShards = new Set(leaving.owned);
    m.setMembers([{ id: "w1" }, { id: "w2", ready: false, terminating: true }, { id: "w3" }]);
    await waitFor(() => leaving.owned.size === 0, { message: "w2 to release its shards" });
    await m.settled(2);
    const owners = m.balancer.owners();
    for (const shard of itsShards) expect(["w1", "w3"]).toContain(owners[shard]);
    const before = leaving.received.length;
    const responses = await publishAll(m.client, [publishRequest(tradeRows(300, 300), 2)]);
    expect(responses[0]?.result.case).toBe("ack");
    expect(leaving.received).toHaveLength(before);
    expect(m.store.total()).toEqual({ sum: (600 * 599) / 2, count: 600 });
  });
});
