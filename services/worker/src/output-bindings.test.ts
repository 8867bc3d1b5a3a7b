import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Bus, createBus, createInputBinding } from "@espmesh/bus";
import { loadProject } from "@espmesh/engine";
import { batchToRows, encodeBatch, parseSchemaString, type Row, rowsToBatch } from "@espmesh/events";
import {
  createChannel,
  createServiceClient,
  type ProcessRequest,
  type ProcessRequestSchema,
  type ProcessResponse,
  WorkerService,
} from "@espmesh/proto";
import { createMemoryBackend, MemoryStateStore } from "@espmesh/state-client";
import { type NatsServer, startNats, waitFor } from "@espmesh/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEngineHost } from "./engine-adapter.js";
import { createOutputBindings } from "./output-bindings.js";
import { createWorker, type Worker } from "./worker.js";

const PROJECT = `
name: trades
windows:
  - { name: trades, kind: source, insertOnly: true, schema: "id*:int64,symbol:string,quantity:int32" }
  - { name: big, kind: filter, inputs: [trades], expression: "quantity > 10" }
`;
const SHARDS = 8;
const schema = parseSchemaString("id*:int64,symbol:string,quantity:int32");
type Request = MessageInitShape<typeof ProcessRequestSchema>;

let nats: NatsServer;
const buses: Bus[] = [];
const workers: Worker[] = [];
let streamName = "";
let counter = 0;

beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats.stop();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

/** A worker publishing window `big` to a stream of its own (one per test). */
async function startWorker(id: string, store: MemoryStateStore, options: { maxRowsPerMessage?: number } = {}) {
  const bus = await createBus({ servers: nats.url });
  buses.push(bus);
  const outputs = createOutputBindings({
    bus,
    deployment: "trades",
    bindings: { big: { subject: `${streamName}.big`, stream: streamName } },
    instanceId: id,
    ...options,
  });
  await outputs.start();
  const worker = createWorker({
    id,
    project: "trades",
    engine: createEngineHost(loadProject(PROJECT), {
      routing: { trades: ["symbol"] },
      shardCount: SHARDS,
      outputShards: true,
    }),
    state: createMemoryBackend({ project: "trades", deployment: "trades", store }),
    outputs,
    checkpointIntervalMs: 20,
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

/** A Process stream driven as the balancer would, owning every shard under `epoch`. */
function openStream(worker: Worker, epoch: bigint) {
  const client = createServiceClient(WorkerService, worker.address);
  const requests = createChannel<Request>();
  const replies: ProcessResponse[] = [];
  const done = (async () => {
    for await (const reply of client.process(requests as AsyncIterable<ProcessRequest>)) replies.push(reply);
  })();
  requests.push({
    kind: { case: "acquire", value: { shards: Array.from({ length: SHARDS }, (_, s) => s), epoch } },
  });
  let seq = 0;
  return {
    committedUpTo: () =>
      Math.max(0, ...replies.flatMap((r) => (r.kind.case === "committed" ? [Number(r.kind.value.upTo)] : []))),
    sendRows(rows: Row[], originSeq: number) {
      seq++;
      const batch = encodeBatch(rowsToBatch(schema, rows), {
        window: "trades",
        origin: { sourceId: "pub", seq: originSeq },
      });
      requests.push({ kind: { case: "batch", value: { seq: BigInt(seq), batch } } });
      return seq;
    },
    async close() {
      requests.end();
      await done;
      client.close();
    },
  };
}

/** Everything the test's stream holds: message count and rows. */
async function stored(): Promise<{ messages: number; ids: number[] }> {
  const bus = await createBus({ servers: nats.url });
  try {
    const binding = createInputBinding(bus, {
      stream: streamName,
      durable: `check${++counter}`,
      schema,
      window: "big",
    });
    const ids: number[] = [];
    let messages = 0;
    const reading = (async () => {
      for await (const message of binding) {
        messages++;
        ids.push(...batchToRows(message.batch).map((row) => Number(row.id)));
        message.ack();
      }
    })();
    await waitFor(async () => {
      const lag = await binding.lag();
      return lag.pending === 0 && lag.ackPending === 0;
    });
    await binding.close();
    await reading;
    return { messages, ids: ids.sort((a, b) => a - b) };
  } finally {
    await bus.close();
  }
}

const FIRST: Row[] = [
  { id: 1, symbol: "IBM", quantity: 100 },
  { id: 2, symbol: "SAP", quantity: 50 },
  { id: 3, symbol: "IBM", quantity: 1 },
  { id: 4, symbol: "IBM", quantity: 20 },
];

describe("output bindings", () => {
  it("stores a bound window's outputs once per shard and origin, even when the next owner replays them", async () => {
    streamName = "ONCE";
    const first = await startWorker("w1", new MemoryStateStore());
    const a = openStream(first, 1n);
    const last = a.sendRows(FIRST, 1);
    await waitFor(() => a.committedUpTo() >= last);
    // Committed came after the outputs were stored: one message per shard (IBM's and SAP's).
    expect(await stored()).toEqual({ messages: 2, ids: [1, 2, 4] });
    await a.close();

    // A successor without the checkpoint replays origin 1: same ids, nothing new stored.
    const second = await startWorker("w2", new MemoryStateStore());
    const b = openStream(second, 2n);
    b.sendRows(FIRST, 1);
    const next = b.sendRows([{ id: 5, symbol: "SAP", quantity: 30 }], 2);
    await waitFor(() => b.committedUpTo() >= next);
    expect(await stored()).toEqual({ messages: 3, ids: [1, 2, 4, 5] });
    await b.close();
  });

  it("splits one shard's outputs for an origin into parts of maxRowsPerMessage", async () => {
    streamName = "PARTS";
    const worker = await startWorker("w1", new MemoryStateStore(), { maxRowsPerMessage: 1 });
    const stream = openStream(worker, 1n);
    const last = stream.sendRows(FIRST, 1);
    await waitFor(() => stream.committedUpTo() >= last);
    expect(await stored()).toEqual({ messages: 3, ids: [1, 2, 4] });
    await stream.close();
  });

  it("answers Committed only once the outputs are stored: not while NATS is down, at once when it is back", async () => {
    streamName = "OUTAGE";
    const worker = await startWorker("w1", new MemoryStateStore());
    const stream = openStream(worker, 1n);
    const warm = stream.sendRows([{ id: 1, symbol: "A", quantity: 11 }], 1);
    await waitFor(() => stream.committedUpTo() >= warm);
    await nats.stop();
    const last = stream.sendRows(FIRST, 2);
    // Many checkpoint intervals pass without NATS: the batch stays uncommitted.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stream.committedUpTo()).toBeLessThan(last);
    await nats.start();
    await waitFor(() => stream.committedUpTo() >= last, { timeoutMs: 20_000 });
    expect(await stored()).toEqual({ messages: 3, ids: [1, 1, 2, 4] });
    await stream.close();
  });
});
