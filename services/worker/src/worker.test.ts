import type { MessageInitShape } from "@bufbuild/protobuf";
import { loadProject } from "@espmesh/engine";
import { batchToRows, decodeBatch, encodeBatch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import type { ProcessRequestSchema } from "@espmesh/proto";
import {
  createChannel,
  createServiceClient,
  type ProcessRequest,
  type ProcessResponse,
  WorkerService,
} from "@espmesh/proto";
import { createMemoryBackend, MemoryStateStore } from "@espmesh/state-client";
import { afterEach, describe, expect, it } from "vitest";
import { createEngineHost } from "./engine-adapter.js";
import { createWorker, type Worker } from "./worker.js";

const PROJECT = `
<project name="trades">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" insert-only="true" index="pi_EMPTY">
          <schema-string>id*:int64,symbol:string,quantity:int32</schema-string>
        </window-source>
        <window-aggregate name="totals">
          <schema-string>symbol*:string,volume:int64,count:int64</schema-string>
          <output>
            <field-expr>ESP_aSum(quantity)</field-expr>
            <field-expr>ESP_aCount()</field-expr>
          </output>
        </window-aggregate>
      </windows>
      <edges><edge source="trades" target="totals"/></edges>
    </contquery>
  </contqueries>
</project>`;

const SHARDS = 8;
const schema = parseSchemaString("id*:int64,symbol:string,quantity:int32");
type Request = MessageInitShape<typeof ProcessRequestSchema>;

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

async function startWorker(id: string, store: MemoryStateStore, checkpointIntervalMs = 20): Promise<Worker> {
  const model = loadProject(PROJECT);
  const worker = createWorker({
    id,
    project: "trades",
    engine: createEngineHost(model, { routing: { trades: ["symbol"] }, shardCount: SHARDS }),
    state: createMemoryBackend({ project: "trades", deployment: "trades", store }),
    checkpointIntervalMs,
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

/** A Process stream driven by the test as the balancer would. */
function openStream(worker: Worker) {
  const client = createServiceClient(WorkerService, worker.address);
  const requests = createChannel<Request>();
  const replies: ProcessResponse[] = [];
  const waiters: (() => void)[] = [];
  const done = (async () => {
    for await (const reply of client.process(requests as AsyncIterable<ProcessRequest>)) {
      replies.push(reply);
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  const until = async (predicate: (replies: ProcessResponse[]) => boolean) => {
    while (!predicate(replies)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const committedUpTo = () =>
    Math.max(0, ...replies.flatMap((r) => (r.kind.case === "committed" ? [Number(r.kind.value.upTo)] : [])));
  let seq = 0;
  return {
    client,
    replies,
    until,
    committedUpTo,
    send: (request: Request) => requests.push(request),
    sendRows(rows: Record<string, string | number>[], sourceId: string, originSeq: number) {
      seq++;
      requests.push({
        kind: {
          case: "batch",
          value: {
            seq: BigInt(seq),
            batch: encodeBatch(rowsToBatch(schema, rows), { window: "trades", origin: { sourceId, seq: originSeq } }),
          },
        },
      });
      return seq;
    },
    async close() {
      requests.end();
      await done;
      client.close();
    },
  };
}

const allShards = Array.from({ length: SHARDS }, (_, shard) => shard);

async function totals(worker: Worker) {
  const client = createServiceClient(WorkerService, worker.address);
  const response = await client.snapshot({ window: "totals" });
  client.close();
  const rows = batchToRows(decodeBatch(response.rows!));
  return Object.fromEntries(rows.map((row) => [row.symbol as string, [row.volume, row.count]]));
}

describe("worker", () => {
  it("answers Committed only after applying, and serves the aggregate table", async () => {
    const worker = await startWorker("w1", new MemoryStateStore());
    const stream = openStream(worker);
    stream.send({ kind: { case: "open", value: { project: "trades", deployment: "trades", shardCount: SHARDS } } });
    stream.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 1n } } });
    stream.sendRows(
      [
        { id: 1, symbol: "IBM", quantity: 100 },
        { id: 2, symbol: "SAP", quantity: 5 },
      ],
      "pub",
      1,
    );
    const last = stream.sendRows([{ id: 3, symbol: "IBM", quantity: 50 }], "pub", 2);
    await stream.until(() => stream.committedUpTo() >= last);
    expect(await totals(worker)).toEqual({ IBM: [150, 2], SAP: [5, 1] });
    await stream.close();
  });

  it("answers a Snapshot of a window without a table with its schema and no rows", async () => {
    const worker = await startWorker("w1", new MemoryStateStore());
    const client = createServiceClient(WorkerService, worker.address);
    const response = await client.snapshot({ window: "trades" });
    client.close();
    const rows = decodeBatch(response.rows!);
    expect(rows.length).toBe(0);
    expect(rows.schema.fields.map((field) => field.name)).toEqual(["id", "symbol", "quantity"]);
  });

  it("skips an origin it already applied to a shard (a re-sent batch counts once)", async () => {
    const worker = await startWorker("w1", new MemoryStateStore());
    const stream = openStream(worker);
    stream.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 1n } } });
    stream.sendRows([{ id: 1, symbol: "IBM", quantity: 100 }], "pub", 1);
    const last = stream.sendRows([{ id: 1, symbol: "IBM", quantity: 100 }], "pub", 1);
    await stream.until(() => stream.committedUpTo() >= last);
    expect(await totals(worker)).toEqual({ IBM: [100, 1] });
    await stream.close();
  });

  it("hands committed state and watermarks to the next owner of a shard", async () => {
    const store = new MemoryStateStore();
    const first = await startWorker("w1", store);
    const a = openStream(first);
    a.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 1n } } });
    const last = a.sendRows(
      [
        { id: 1, symbol: "IBM", quantity: 100 },
        { id: 2, symbol: "SAP", quantity: 7 },
      ],
      "pub",
      1,
    );
    await a.until(() => a.committedUpTo() >= last);
    await a.close();

    const second = await startWorker("w2", store);
    const b = openStream(second);
    b.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 2n } } });
    // The first batch again (a resend after the old owner died) and a new one.
    b.sendRows([{ id: 1, symbol: "IBM", quantity: 100 }], "pub", 1);
    const next = b.sendRows([{ id: 3, symbol: "IBM", quantity: 1 }], "pub", 2);
    await b.until(() => b.committedUpTo() >= next);
    expect(await totals(second)).toEqual({ IBM: [101, 2], SAP: [7, 1] });
    await b.close();
  });

  it("drops shards a newer owner fenced and reports it", async () => {
    const store = new MemoryStateStore();
    const stale = await startWorker("w1", store);
    const a = openStream(stale);
    a.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 1n } } });
    await a.until((replies) => replies.some((r) => r.kind.case === "acquired"));
    // Another owner takes every shard with a newer epoch behind w1's back.
    await createMemoryBackend({ project: "trades", deployment: "trades", store }).acquire(allShards, "w2", 2);
    a.sendRows([{ id: 1, symbol: "IBM", quantity: 100 }], "pub", 1);
    await a.until((replies) => replies.some((r) => r.kind.case === "failure"));
    const failure = a.replies.find((r) => r.kind.case === "failure");
    if (failure?.kind.case !== "failure") throw new Error("no failure reply");
    expect(failure.kind.value.code).toBe("FAILED_PRECONDITION");
    const fenced = (/shards ([\d,]+) were fenced/.exec(failure.kind.value.message)?.[1] ?? "").split(",").map(Number);
    expect(fenced.length).toBeGreaterThan(0);
    for (const shard of fenced) expect(stale.ownedShards()).not.toContain(shard);
    await a.close();
  });

  it("drains on stop: commits what it applied and answers Committed before the stream ends", async () => {
    const store = new MemoryStateStore();
    // No checkpoint would come for a minute: only the drain commits.
    const worker = await startWorker("w1", store, 60_000);
    const stream = openStream(worker);
    stream.send({ kind: { case: "acquire", value: { shards: allShards, epoch: 1n } } });
    const last = stream.sendRows([{ id: 1, symbol: "IBM", quantity: 42 }], "pub", 1);
    while (!(await totals(worker)).IBM) await new Promise((resolve) => setTimeout(resolve, 5));
    workers.splice(workers.indexOf(worker), 1);
    await worker.stop();
    await stream.close();
    expect(stream.committedUpTo()).toBe(last);
    const checkpoints = await createMemoryBackend({ project: "trades", deployment: "trades", store }).load(allShards);
    const marks = checkpoints.flatMap((checkpoint) => [...checkpoint.watermarks.values()]);
    expect(marks).toContain(1);
  });
});
