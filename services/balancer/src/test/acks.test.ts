import { encodeBatch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import type * as pb from "@espmesh/proto";
import { afterEach, describe, expect, it } from "vitest";
import { type Mesh, publishAll, publishRequest, startMesh, tradeRows } from "./harness.js";

let mesh: Mesh | undefined;
afterEach(async () => {
  await mesh?.close();
  mesh = undefined;
});

describe("publish acknowledgements", () => {
  it("acks an origin only after every worker it reached committed it", async () => {
    mesh = await startMesh({ workers: ["w1", "w2", "w3"], worker: { commitIntervalMs: 150 } });
    await mesh.settled();
    const m = mesh;
    const checked: number[] = [];
    const responses = await publishAll(
      m.client,
      Array.from({ length: 12 }, (_, i) => publishRequest(tradeRows(i * 50, 50), i + 1)),
      (response) => {
        // At the moment the ack arrives, every shard the origin touched has it committed.
        const seq = Number(response.origin!.seq);
        const touched = new Set<number>();
        for (const worker of m.workers.values()) {
          for (const batch of worker.received)
            if (batch.seq === seq) for (const shard of batch.shards) touched.add(shard);
        }
        expect(touched.size).toBeGreaterThan(0);
        for (const shard of touched) {
          expect(m.store.shards.get(shard)?.watermarks.get("test-publisher")).toBeGreaterThanOrEqual(seq);
        }
        checked.push(seq);
      },
    );
    expect(responses.every((r) => r.result.case === "ack")).toBe(true);
    expect(checked.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(m.store.total()).toEqual({ sum: (600 * 599) / 2, count: 600 });
  });

  it("acks several clean origins to a response for a publisher that asks, each exactly once", async () => {
    mesh = await startMesh({
      workers: ["w1", "w2"],
      worker: { commitIntervalMs: 100, badRow: (row) => (row.id === 1234 ? "id 1234 is refused" : undefined) },
    });
    await mesh.settled();
    const coalesceAcks = true;
    const requests = Array.from({ length: 40 }, (_, i) =>
      publishRequest(tradeRows(i * 50, 50), i + 1, { coalesceAcks }),
    );
    // A refused batch (unknown window) and a batch with a bad event are answered on their own.
    requests.splice(10, 0, publishRequest(tradeRows(0, 5), 41, { window: "nope", coalesceAcks }));
    const responses = await publishAll(mesh.client, requests);
    const acked = responses.flatMap((r) => r.acked.map((origin) => Number(origin.seq)));
    const answered = responses.filter((r) => r.origin !== undefined);
    expect(answered.map((r) => [Number(r.origin!.seq), r.result.case])).toEqual(
      expect.arrayContaining([
        [41, "error"],
        [25, "ack"],
      ]),
    );
    expect(answered).toHaveLength(2);
    const withBad = answered.find((r) => r.result.case === "ack")!.result.value as pb.PublishAck;
    expect(withBad.accepted).toBe(49);
    expect(withBad.badEvents.map((event) => [event.row, event.reason])).toEqual([[34, "id 1234 is refused"]]);
    expect([...acked, 25].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Coalesced: far fewer responses than origins (one per worker commit, not one per batch).
    expect(responses.filter((r) => r.acked.length > 0).length).toBeLessThan(20);
    expect(mesh.store.total().count).toBe(2000 - 1);
  });

  it("passes the workers' bad events back in the ack, with rows of the published batch", async () => {
    mesh = await startMesh({
      workers: ["w1", "w2"],
      worker: { badRow: (row) => ((row.value as number) % 10 === 3 ? "value ends in 3" : undefined) },
    });
    await mesh.settled();
    const [response] = await publishAll(mesh.client, [publishRequest(tradeRows(0, 40), 1)]);
    expect(response?.result.case).toBe("ack");
    const ack = response!.result.value as pb.PublishAck;
    expect(ack.accepted).toBe(36);
    expect(ack.badEvents.map((event) => event.row).sort((a, b) => a - b)).toEqual([3, 13, 23, 33]);
    expect(ack.badEvents.every((event) => event.reason === "value ends in 3" && event.window === "trades")).toBe(true);
    expect(ack.badEvents.every((event) => event.origin?.seq === 1n)).toBe(true);
  });

  it("refuses batches for another project, an unknown window or another schema, and keeps the stream going", async () => {
    mesh = await startMesh({ workers: ["w1"] });
    await mesh.settled();
    const otherSchema = parseSchemaString("id*:int64,price:double");
    const wrongSchema: pb.PublishRequest = {
      $typeName: "espmesh.v1.PublishRequest",
      project: "trades",
      batch: encodeBatch(rowsToBatch(otherSchema, [{ id: 1, price: 2 }]), {
        window: "trades",
        origin: { sourceId: "test-publisher", seq: 3 },
      }),
      coalesceAcks: false,
    };
    const responses = await publishAll(mesh.client, [
      publishRequest(tradeRows(0, 5), 1, { project: "other" }),
      publishRequest(tradeRows(0, 5), 2, { window: "nope" }),
      wrongSchema,
      publishRequest(tradeRows(0, 5), 4),
    ]);
    const bySeq = new Map(responses.map((r) => [Number(r.origin?.seq), r.result]));
    expect(bySeq.get(1)).toMatchObject({ case: "error", value: { code: "NOT_FOUND" } });
    expect(bySeq.get(2)).toMatchObject({ case: "error", value: { code: "NOT_FOUND" } });
    expect(bySeq.get(3)).toMatchObject({ case: "error", value: { code: "INVALID_ARGUMENT" } });
    expect(bySeq.get(4)).toMatchObject({ case: "ack", value: { accepted: 5 } });
    expect(mesh.store.total().count).toBe(5);
  });

  it("acks an empty batch at once", async () => {
    mesh = await startMesh({ workers: ["w1"] });
    await mesh.settled();
    const responses = await publishAll(mesh.client, [publishRequest([], 1)]);
    expect(responses[0]?.result).toMatchObject({ case: "ack", value: { accepted: 0 } });
  });
});
