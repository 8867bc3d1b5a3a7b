import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
import type { GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlService } from "./gen/espmesh/v1/control_pb.js";
import { IngestService } from "./gen/espmesh/v1/ingest_pb.js";
import { StateService } from "./gen/espmesh/v1/state_pb.js";
import { type ProcessRequest, type ProcessResponse, WorkerService } from "./gen/espmesh/v1/worker_pb.js";
import {
  addService,
  bindServer,
  type CallContext,
  createServiceClient,
  type ServiceClient,
  type ServiceImpl,
  shutdownServer,
} from "./grpc-adapter.js";

// The contracts have no client-streaming method, so the test builds one from a descriptor.
type SumNumber = Message<"espmesh.test.v1.SumNumber"> & { value: number };
type SumTotal = Message<"espmesh.test.v1.SumTotal"> & { sum: number; count: number };
const int32 = (name: string, number: number) => ({
  name,
  number,
  jsonName: name,
  type: FieldDescriptorProto_Type.INT32,
  label: FieldDescriptorProto_Label.OPTIONAL,
});
const sumRegistry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "espmesh/test/v1/sum.proto",
    package: "espmesh.test.v1",
    syntax: "proto3",
    messageType: [
      { name: "SumNumber", field: [int32("value", 1)] },
      { name: "SumTotal", field: [int32("sum", 1), int32("count", 2)] },
    ],
    service: [
      {
        name: "SumService",
        method: [
          {
            name: "Sum",
            inputType: ".espmesh.test.v1.SumNumber",
            outputType: ".espmesh.test.v1.SumTotal",
            clientStreaming: true,
          },
        ],
      },
    ],
  }),
  () => undefined,
);
const SumService = sumRegistry.getService("espmesh.test.v1.SumService") as unknown as GenService<{
  sum: { methodKind: "client_streaming"; input: GenMessage<SumNumber>; output: GenMessage<SumTotal> };
}>;

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Rejects if `promise` does not settle within `ms` (keeps every test bounded). */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** What the server saw of calls the test cancels, keyed by project or window name. */
const serverCalls = new Map<string, { entered: Deferred<void>; cancelled: Deferred<string> }>();
function track(key: string) {
  const entry = { entered: deferred<void>(), cancelled: deferred<string>() };
  serverCalls.set(key, entry);
  return entry;
}
async function waitForCancel(key: string, context: CallContext): Promise<never> {
  const entry = serverCalls.get(key);
  entry?.entered.resolve();
  await aborted(context.signal);
  entry?.cancelled.resolve(MeshError.from(context.signal.reason).code);
  throw new MeshError("CANCELLED", "gave up");
}

const payload = "x".repeat(1024);

const stateImpl: ServiceImpl<typeof StateService> = {
  async acquire(request) {
    if (request.epoch === 0n) {
      throw new MeshError("FAILED_PRECONDITION", "epoch 0 is stale", {
        details: { shard: request.shards[0], owner: request.owner, epoch: 0n },
      });
    }
    return { checkpoints: request.shards.map((shard) => ({ shard, epoch: request.epoch, owner: request.owner })) };
  },
  async commit(request) {
    if (request.project === "explode") throw new TypeError("cannot read properties of undefined");
    return { shards: request.shards.length, bytes: 10n };
  },
  async load(request, context) {
    if (request.project.startsWith("hang")) return waitForCancel(request.project, context);
    const owner = [context.metadata.get("x-client")[0], context.metadata.get("x-call")[0]].join("/");
    return { checkpoints: [{ shard: 1, owner }] };
  },
  release: () => ({}),
  dropDeployment: () => ({}),
};

const ingestImpl: ServiceImpl<typeof IngestService> = {
  async *publish(requests) {
    for await (const request of requests) {
      const origin = request.batch?.origin;
      yield { origin, result: { case: "ack", value: { accepted: request.batch?.count ?? 0 } } };
    }
  },
  async *subscribe(request, context) {
    for (let seq = 1; seq <= 3; seq += 1) {
      yield { batch: { window: request.window, count: seq, origin: { sourceId: "s", seq: BigInt(seq) } } };
    }
    if (request.window === "missing") {
      throw new MeshError("NOT_FOUND", "window missing is gone", { details: { window: request.window } });
    }
    if (request.window.startsWith("endless")) await waitForCancel(request.window, context);
  },
  queryWindow: (request) => ({ rows: { window: request.window, count: request.limit } }),
};

const workerImpl: ServiceImpl<typeof WorkerService> = {
  async *process(requests, context) {
    for await (const request of requests) {
      if (request.kind.case !== "batch") continue;
      const { seq } = request.kind.value;
      if (request.kind.value.batch?.window === "hang-bidi") {
        yield { kind: { case: "committed", value: { upTo: seq } } };
        await waitForCancel("hang-bidi", context);
      }
      if (request.kind.value.batch?.window === "poison") {
        throw new MeshError("ABORTED", "poison batch", { details: { window: "poison", row: Number(seq) } });
      }
      yield { kind: { case: "failure", value: { seq, code: "OK", message: payload } } };
    }
  },
  subscribe: async function* () {},
  snapshot: () => ({}),
  health: () => ({ workerId: "w1" }),
};

const sumImpl: ServiceImpl<typeof SumService> = {
  async sum(numbers) {
    let sum = 0;
    let count = 0;
    for await (const number of numbers) {
      if (number.value < 0) {
        throw new MeshError("INVALID_ARGUMENT", "negative number", { details: { field: "value", row: count } });
      }
      sum += number.value;
      count += 1;
    }
    return { sum, count };
  },
};

async function* numbers(values: number[]): AsyncIterable<{ value: number }> {
  for (const value of values) yield { value };
}

describe("grpc adapter over a loopback server", () => {
  const server = new grpc.Server();
  let address = "";
  let state: ServiceClient<typeof StateService>;
  let ingest: ServiceClient<typeof IngestService>;
  let worker: ServiceClient<typeof WorkerService>;
  let sum: ServiceClient<typeof SumService>;

  beforeAll(async () => {
    addService(server, StateService, stateImpl);
    addService(server, IngestService, ingestImpl);
    addService(server, WorkerService, workerImpl);
    addService(server, SumService, sumImpl);
    const port = await bindServer(server, "127.0.0.1:0");
    address = `127.0.0.1:${port}`;
    const metadata = new grpc.Metadata();
    metadata.set("x-client", "tests");
    state = createServiceClient(StateService, address, { metadata });
    ingest = createServiceClient(IngestService, address);
    worker = createServiceClient(WorkerService, address);
    sum = createServiceClient(SumService, address);
  });

  afterAll(async () => {
    for (const client of [state, ingest, worker, sum]) client?.close();
    await shutdownServer(server, 1000);
  });

  describe("call shapes", () => {
    it("answers a unary call with typed messages, bigints included", async () => {
      const response = await state.acquire({ project: "p", shards: [3, 4], owner: "w1", epoch: 9n });
      expect(response.checkpoints.map((c) => [c.shard, c.epoch, c.owner])).toEqual([
        [3, 9n, "w1"],
        [4, 9n, "w1"],
      ]);
    });

    it("passes client and per-call metadata to the handler", async () => {
      const metadata = new grpc.Metadata();
      metadata.set("x-call", "one");
      const response = await state.load({ project: "p" }, { metadata });
      expect(response.checkpoints[0]?.owner).toBe("tests/one");
    });

    it("streams server messages in order to the end", async () => {
      const counts: number[] = [];
      for await (const response of ingest.subscribe({ window: "trades" })) counts.push(response.batch?.count ?? -1);
      expect(counts).toEqual([1, 2, 3]);
    });

    it("sums a client stream into one response", async () => {
      expect(await sum.sum(numbers([1, 2, 3, 4]))).toMatchObject({ sum: 10, count: 4 });
      expect(await sum.sum(numbers([]))).toMatchObject({ sum: 0, count: 0 });
    });

    it("acknowledges each published origin on a bidi stream", async () => {
      async function* requests() {
        for (let seq = 1; seq <= 5; seq += 1) {
          yield {
            project: "p",
            batch: { window: "w", count: seq * 10, origin: { sourceId: "pub-1", seq: BigInt(seq) } },
          };
        }
      }
      const acks: [bigint | undefined, number | undefined][] = [];
      for await (const response of ingest.publish(requests())) {
        acks.push([response.origin?.seq, response.result.case === "ack" ? response.result.value.accepted : undefined]);
      }
      expect(acks).toEqual([
        [1n, 10],
        [2n, 20],
        [3n, 30],
        [4n, 40],
        [5n, 50],
      ]);
    });
  });

  describe("errors", () => {
    it("delivers a unary MeshError with its code and details", async () => {
      const failure = state.acquire({ project: "p", shards: [7], owner: "w2", epoch: 0n });
      await expect(failure).rejects.toBeInstanceOf(MeshError);
      await expect(failure).rejects.toMatchObject({
        code: "FAILED_PRECONDITION",
        message: "epoch 0 is stale",
        details: { shard: 7, owner: "w2", epoch: 0 },
      });
    });

    it("delivers an error thrown mid-stream after the messages before it", async () => {
      const counts: number[] = [];
      const read = async () => {
        for await (const response of ingest.subscribe({ window: "missing" })) counts.push(response.batch?.count ?? -1);
      };
      await expect(read()).rejects.toMatchObject({ code: "NOT_FOUND", details: { window: "missing" } });
      expect(counts).toEqual([1, 2, 3]);
    });

    it("delivers a client-streaming handler's error", async () => {
      await expect(sum.sum(numbers([5, 6, -1, 7]))).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        details: { field: "value", row: 2 },
      });
    });

    it("delivers a bidi handler's error after the responses before it", async () => {
      async function* requests(): AsyncIterable<ProcessRequest | object> {
        for (let seq = 1n; seq <= 3n; seq += 1n) {
          const window = seq === 3n ? "poison" : "w";
          yield { kind: { case: "batch", value: { seq, batch: { window } } } };
        }
      }
      const seqs: bigint[] = [];
      const read = async () => {
        for await (const response of worker.process(requests())) {
          if (response.kind.case === "failure") seqs.push(response.kind.value.seq);
        }
      };
      await expect(read()).rejects.toMatchObject({ code: "ABORTED", details: { window: "poison", row: 3 } });
      expect(seqs).toEqual([1n, 2n]);
    });

    it("turns a plain exception into INTERNAL with its message", async () => {
      await expect(state.commit({ project: "explode" })).rejects.toMatchObject({
        code: "INTERNAL",
        message: "cannot read properties of undefined",
      });
    });

    it("reports a service the server does not have as UNIMPLEMENTED", async () => {
      const control = createServiceClient(ControlService, address);
      try {
        await expect(control.get({})).rejects.toMatchObject({ code: "UNIMPLEMENTED" });
      } finally {
        control.close();
      }
    });

    it("reports an unreachable server as UNAVAILABLE", async () => {
      const probe = new grpc.Server();
      const port = await bindServer(probe, "127.0.0.1:0");
      await shutdownServer(probe, 100);
      const offline = createServiceClient(StateService, `127.0.0.1:${port}`);
      try {
        await expect(offline.load({ project: "p" }, { deadline: 5000 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
      } finally {
        offline.close();
      }
    });
  });

  describe("cancellation", () => {
    it("aborting a unary call rejects it with CANCELLED and aborts the server's signal", async () => {
      const seen = track("hang-unary");
      const controller = new AbortController();
      const call = state.load({ project: "hang-unary" }, { signal: controller.signal });
      await within(seen.entered.promise);
      controller.abort();
      await expect(call).rejects.toMatchObject({ code: "CANCELLED" });
      expect(await within(seen.cancelled.promise)).toBe("CANCELLED");
    });

    it("a passed deadline rejects with DEADLINE_EXCEEDED and aborts the server's signal", async () => {
      const seen = track("hang-deadline");
      const call = state.load({ project: "hang-deadline" }, { deadline: 200 });
      await expect(call).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
      expect(await within(seen.cancelled.promise)).toBe("CANCELLED");
    });

    it("aborting a server stream ends the client's iteration and aborts the server's signal", async () => {
      const seen = track("endless-1");
      const controller = new AbortController();
      const counts: number[] = [];
      const read = async () => {
        for await (const response of ingest.subscribe({ window: "endless-1" }, { signal: controller.signal })) {
          counts.push(response.batch?.count ?? -1);
          if (counts.length === 3) controller.abort();
        }
      };
      await expect(within(read())).rejects.toMatchObject({ code: "CANCELLED" });
      expect(counts).toEqual([1, 2, 3]);
      expect(await within(seen.cancelled.promise)).toBe("CANCELLED");
    });

    it("breaking out of a server stream early cancels the call on the server", async () => {
      const seen = track("endless-2");
      const counts: number[] = [];
      for await (const response of ingest.subscribe({ window: "endless-2" })) {
        counts.push(response.batch?.count ?? -1);
        if (counts.length === 3) break;
      }
      expect(counts).toEqual([1, 2, 3]);
      expect(await within(seen.cancelled.promise)).toBe("CANCELLED");
    });

    it("aborting a bidi stream aborts the server's signal", async () => {
      const seen = track("hang-bidi");
      const controller = new AbortController();
      async function* requests(): AsyncIterable<object> {
        yield { kind: { case: "batch", value: { seq: 1n, batch: { window: "hang-bidi" } } } };
        await aborted(controller.signal);
      }
      const read = async () => {
        for await (const response of worker.process(requests(), { signal: controller.signal })) {
          if (response.kind.case === "committed") controller.abort();
        }
      };
      await expect(within(read())).rejects.toMatchObject({ code: "CANCELLED" });
      expect(await within(seen.cancelled.promise)).toBe("CANCELLED");
    });

    it("an already aborted signal never reaches the handler", async () => {
      await expect(state.load({ project: "p" }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        code: "CANCELLED",
      });
    });
  });

  describe("bidi backpressure", () => {
    it("moves 5000 1 KiB messages each way without loss or reordering past a slow reader", async () => {
      const total = 5000;
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
      process.on("warning", onWarning);
      const opcodes = new Uint8Array(1024).fill(1);
      async function* requests(): AsyncIterable<ProcessRequest | object> {
        for (let seq = 1n; seq <= BigInt(total); seq += 1n) {
          yield { kind: { case: "batch", value: { seq, batch: { window: "w", count: 1024, opcodes } } } };
        }
      }
      let expected = 1n;
      let outOfOrder = 0;
      let received = 0;
      let bytes = 0;
      try {
        for await (const response of worker.process(requests()) as AsyncIterable<ProcessResponse>) {
          if (response.kind.case !== "failure") continue;
          if (response.kind.value.seq !== expected) outOfOrder += 1;
          expected += 1n;
          received += 1;
          bytes += response.kind.value.message.length;
          // A slow reader: the server's writes must wait for it instead of dropping or buffering forever.
          if (received % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        process.off("warning", onWarning);
      }
      expect(received).toBe(total);
      expect(outOfOrder).toBe(0);
      expect(bytes).toBe(total * payload.length);
      expect(warnings).toEqual([]);
    }, 60_000);
  });
});
