import type * as pb from "@espmesh/proto";
import { waitFor } from "@espmesh/testing";
import { afterEach, describe, expect, it } from "vitest";
import { inBackground, type Mesh, publishAll, publishRequest, startMesh, tradeRows } from "./harness.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

const SIZE = 100;
const BOUND = 2000;

describe("a stalled worker", () => {
  it("keeps the balancer's in-flight events bounded and stalls the publisher's writes", async () => {
    mesh = await startMesh({ workers: ["w1", "w2"], balancer: { maxInFlightEvents: BOUND } });
    await mesh.settled();
    const m = mesh;
    const stalled = m.workers.get("w1")!;
    stalled.stall(true);
    let pulled = 0;
    let stop = false;
    async function* requests(): AsyncIterable<pb.PublishRequest> {
      while (!stop) {
        pulled++;
        yield publishRequest(tradeRows(pulled * SIZE, SIZE), pulled);
      }
    }
    const publishing = inBackground(publishAll(m.client, requests()));

    const inflightOf = (id: string) => m.balancer.stats().workers.find((worker) => worker.id === id)!.inflightEvents;
    await waitFor(() => inflightOf("w1") >= BOUND, { message: "the stalled worker to reach the in-flight bound" });
    // The healthy worker commits everything it was sent; ingress still reads nothing more.
    await waitFor(() => inflightOf("w2") === 0, { message: "w2 to commit what it got" });
    const atBound = pulled;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pulled).toBe(atBound);
    // The balancer holds at most the bound per worker; the batches it has read and not yet
    // answered are bounded accordingly (the rest of what the publisher wrote waits in HTTP/2 buffers).
    const stats = m.balancer.stats();
    for (const worker of stats.workers) expect(worker.inflightEvents).toBeLessThan(BOUND + SIZE);
    expect(stats.heldEvents).toBeLessThan(BOUND + SIZE);
    expect(stats.outstanding * SIZE).toBeLessThan(2 * (BOUND + SIZE));

    stalled.stall(false);
    await waitFor(() => pulled > atBound + 50, { message: "the publisher to resume once the worker commits" });
    stop = true;
    const responses = await publishing;
    expect(responses).toHaveLength(pulled);
    expect(responses.every((r) => r.result.case === "ack")).toBe(true);
    expect(m.store.total().count).toBe(pulled * SIZE);
  });
});
