/**
 * Test harness of the balancer: test workers, a static registry, a balancer, and a publisher
 * speaking the IngestService over real gRPC on loopback.
 */
import { encodeBatch, parseSchemaString, type Row, rowsToBatch, type Schema } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { createStaticRegistry, type StaticMember, type StaticRegistry } from "@espmesh/registry";
import { waitFor } from "@espmesh/testing";
import { type Balancer, createBalancer } from "../balancer.js";
import type { BalancerOptions, SourceWindowOptions } from "../options.js";
import {
  createShardStore,
  createTestWorker,
  type ShardStore,
  type TestWorker,
  type TestWorkerOptions,
} from "./test-worker.js";

/** The schema most tests publish: a key and a summed value. */
export const tradeSchema: Schema = parseSchemaString("id*:int64,symbol:string,value:double");

/** A running mesh for one test. */
export interface Mesh {
  readonly balancer: Balancer;
  readonly registry: StaticRegistry;
  readonly store: ShardStore;
  readonly workers: Map<string, TestWorker>;
  readonly client: pb.ServiceClient<typeof pb.IngestService>;
  /** Starts a worker and adds it to the membership. */
  addWorker(id: string, options?: Partial<TestWorkerOptions>): Promise<TestWorker>;
  /** Replaces the membership with these running workers (flags as given). */
  setMembers(members: readonly (Partial<StaticMember> & { id: string })[]): void;
  /** Resolves when every member is ready and owns its shards (no shard unowned). */
  settled(workers?: number): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startMesh}. */
export interface MeshOptions {
  workers: readonly string[];
  sources?: readonly SourceWindowOptions[];
  worker?: Partial<TestWorkerOptions>;
  balancer?: Partial<Omit<BalancerOptions, "deployment" | "membership">>;
  shardCount?: number;
}

/** Starts workers, a static registry of them and a balancer. */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const store = createShardStore();
  const workers = new Map<string, TestWorker>();
  const registry = createStaticRegistry();
  const membership = () =>
    [...workers.values()].map((worker) => ({ id: worker.id, address: worker.address }) satisfies StaticMember);
  const addWorker = async (id: string, extra: Partial<TestWorkerOptions> = {}) => {
    const worker = createTestWorker({ id, store, ...options.worker, ...extra });
    await worker.start();
    workers.set(id, worker);
    return worker;
  };
  for (const id of options.workers) await addWorker(id);
  registry.set(membership());
  const balancer = createBalancer({
    deployment: {
      project: "trades",
      sources: options.sources ?? [{ name: "trades", schema: tradeSchema }],
      ...(options.shardCount === undefined ? {} : { shardCount: options.shardCount }),
    },
    membership: registry,
    ...options.balancer,
  });
  await balancer.start();
  const client = pb.createServiceClient(pb.IngestService, balancer.address!);
  return {
    balancer,
    registry,
    store,
    workers,
    client,
    async addWorker(id, extra) {
      const worker = await addWorker(id, extra);
      registry.set(membership());
      return worker;
    },
    setMembers(members) {
      registry.set(members.map((member) => ({ address: workers.get(member.id)?.address ?? "127.0.0.1:1", ...member })));
    },
    async settled(count = registry.current.members.length) {
      await waitFor(
        () => {
          const stats = balancer.stats();
          const ready = stats.workers.filter((worker) => worker.state === "ready" && worker.shards > 0);
          return ready.length === count && balancer.owners().every((owner) => owner !== undefined);
        },
        { message: `${count} workers to own every shard`, timeoutMs: 15_000 },
      );
    },
    async close() {
      client.close();
      await balancer.stop();
      for (const worker of workers.values()) await worker.stop();
      await registry.close();
    },
  };
}

/** Rows with ids `from … from+count−1`; value = id, symbol cycles through 5. */
export function tradeRows(from: number, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, symbol: `S${(from + i) % 5}`, value: from + i }));
}

/** A publish request of rows. */
export function publishRequest(
  rows: readonly Row[],
  seq: number,
  options: { window?: string; schema?: Schema; sourceId?: string; project?: string; coalesceAcks?: boolean } = {},
): pb.PublishRequest {
  const batch = encodeBatch(rowsToBatch(options.schema ?? tradeSchema, rows), {
    window: options.window ?? "trades",
    origin: { sourceId: options.sourceId ?? "test-publisher", seq },
  });
  return {
    $typeName: "espmesh.v1.PublishRequest",
    project: options.project ?? "trades",
    batch,
    coalesceAcks: options.coalesceAcks ?? false,
  };
}

/**
 * A promise the test awaits later: marked handled now, so a test that fails before awaiting it
 * does not also report its rejection (the stream is cancelled when the mesh closes).
 */
export function inBackground<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Publishes requests on one stream and collects every response (the stream ends after the last ack). */
export async function publishAll(
  client: pb.ServiceClient<typeof pb.IngestService>,
  requests: Iterable<pb.PublishRequest> | AsyncIterable<pb.PublishRequest>,
  onResponse?: (response: pb.PublishResponse) => void,
): Promise<pb.PublishResponse[]> {
  const responses: pb.PublishResponse[] = [];
  const source = async function* () {
    yield* requests;
  };
  for await (const response of client.publish(source())) {
    onResponse?.(response);
    responses.push(response);
  }
  return responses;
}
