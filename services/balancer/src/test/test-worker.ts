/**
 * A small worker for the balancer's tests and benchmark: it implements the WorkerService
 * contract over real gRPC (Process, Subscribe, Snapshot, Health) without the engine. Per shard it
 * keeps the sum and count of one numeric field and, per origin source, the highest origin seq
 * applied (the de-duplication watermark); every commit interval it writes its dirty shards to a
 * {@link ShardStore} (the stand-in for the state service, shared by the workers of one test) and
 * answers `Committed(upTo)`. It records what it received on a timeline shared through the store,
 * so tests can check ordering across workers.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Batch,
  batchToRows,
  createSchemaCache,
  decodeBatch,
  encodeBatch,
  getValue,
  hashRows,
  type Row,
  rowsToBatch,
  type Schema,
} from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { createChannel } from "../channel.js";

type Reply = MessageInitShape<typeof pb.ProcessResponseSchema>;

/** One shard's committed state. */
export interface ShardState {
  sum: number;
  count: number;
  /** Highest origin seq applied, per origin source. */
  watermarks: Map<string, number>;
}

/** Something that happened at a worker, in the order it happened across all workers of a store. */
export type TimelineEntry =
  | { kind: "batch"; worker: string; window: string; sourceId: string; seq: number; shards: number[]; rows: number }
  | { kind: "acquire" | "release-start" | "release"; worker: string; shards: number[]; epoch: number }
  | { kind: "commit"; worker: string; upTo: number };

/** The test's state service: committed shard state, epochs for fencing, and the shared timeline. */
export interface ShardStore {
  readonly shards: Map<number, ShardState>;
  readonly epochs: Map<number, number>;
  readonly timeline: TimelineEntry[];
  /** Sum of `sum` over every shard. */
  total(): { sum: number; count: number };
}

/** A new, empty {@link ShardStore}. */
export function createShardStore(): ShardStore {
  const shards = new Map<number, ShardState>();
  return {
    shards,
    epochs: new Map(),
    timeline: [],
    total() {
      let sum = 0;
      let count = 0;
      for (const state of shards.values()) {
        sum += state.sum;
        count += state.count;
      }
      return { sum, count };
    },
  };
}

/** Options of {@link createTestWorker}. */
export interface TestWorkerOptions {
  id: string;
  /** @default a new store */
  store?: ShardStore;
  /** The numeric field summed per shard. @default "value" */
  sumField?: string;
  /** @default 20 */
  commitIntervalMs?: number;
  /** Keep received rows and the timeline (tests); off for the benchmark. @default true */
  record?: boolean;
  /**
   * Filter only (the benchmark's project): count the rows whose summed field is ≥ 0 and keep no
   * shard state. @default false
   */
  filterOnly?: boolean;
  /** A reason to reject a row as a bad event, or undefined to apply it. @default none */
  badRow?: (row: Row) => string | undefined;
  /** Windows reported as replicated (multicast-fed) by Subscribe and Snapshot. @default none */
  replicatedWindows?: readonly string[];
  /** @default "127.0.0.1:0" */
  listen?: string;
}

/** A received sub-batch. */
export interface ReceivedBatch {
  readonly window: string;
  readonly sourceId: string;
  readonly seq: number;
  readonly rows: Row[];
  readonly shards: number[];
}

/** A running test worker. */
export interface TestWorker {
  readonly id: string;
  readonly address: string;
  readonly received: ReceivedBatch[];
  readonly owned: ReadonlySet<number>;
  /** Events applied (all streams). */
  readonly applied: number;
  /** Open Subscribe streams. */
  readonly subscriberCount: number;
  start(): Promise<string>;
  /** Graceful: ends streams after a last commit. */
  stop(): Promise<void>;
  /** Crash: streams break, uncommitted state is lost, nothing more is committed. */
  kill(): void;
  /** While stalled it neither commits nor answers releases. */
  stall(stalled: boolean): void;
  /** While held, releases are not answered (the shards stay paused at the balancer). */
  holdReleases(held: boolean): void;
}

/** Creates a test worker (call `start()`). */
export function createTestWorker(options: TestWorkerOptions): TestWorker {
  return new TestWorkerImpl(options);
}

class TestWorkerImpl implements TestWorker {
  readonly id: string;
  address = "";
  readonly received: ReceivedBatch[] = [];
  readonly owned = new Set<number>();
  applied = 0;
  private readonly store: ShardStore;
  private readonly server = new grpc.Server();
  private readonly local = new Map<number, ShardState>();
  private readonly dirty = new Set<number>();
  private readonly table = new Map<string, Map<string, Row>>();
  private readonly schemas = new Map<string, Schema>();
  private readonly subscribers = new Set<{ window: string; push: (batch: pb.Batch) => void }>();
  private readonly sessions = new Set<() => void>();
  private dead = false;

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private stalled = false;
  private releasesHeld = false;
  private readonly unstall = new Set<() => void>();

  constructor(private readonly options: TestWorkerOptions) {
    this.id = options.id;
    this.store = options.store ?? createShardStore();
  }

  async start(): Promise<string> {
    pb.addService(this.server, pb.WorkerService, {
      process: (requests, call) => this.process(requests, call.signal),
      subscribe: (request, call) => this.subscribe(request.window, call.signal),
      snapshot: (request) => this.snapshot(request.window),
      health: () => ({ status: pb.HealthResponse_Status.SERVING, workerId: this.id, shardsOwned: this.owned.size }),
    });
    const listen = this.options.listen ?? "127.0.0.1:0";
    const port = await pb.bindServer(this.server, listen);
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  async stop(): Promise<void> {
    for (const end of this.sessions) end();
    await pb.shutdownServer(this.server, 1000);
  }

  kill(): void {
    this.dead = true;
    this.wake();
    for (const end of this.sessions) end();
    this.server.forceShutdown();
  }

  stall(stalled: boolean): void {
    this.stalled = stalled;
    if (!stalled) this.wake();
  }

  holdReleases(held: boolean): void {
    this.releasesHeld = held;
    if (!held) this.wake();
  }

  private wake(): void {
    for (const wake of this.unstall) wake();
    this.unstall.clear();
  }

  private process(requests: AsyncIterable<pb.ProcessRequest>, signal: AbortSignal): AsyncIterable<Reply> {
    const out = createChannel<Reply>({ highWater: Number.POSITIVE_INFINITY });
    const cache = createSchemaCache();
    let shardCount = 4096;
    let applied = 0;
    let committed = 0;
    const commit = () => {
      if (this.dead || this.stalled) return;
      this.commitShards([...this.dirty]);
      if (applied > committed) {
        committed = applied;
        this.note({ kind: "commit", worker: this.id, upTo: committed });
        out.push({ kind: { case: "committed", value: { upTo: BigInt(committed) } } });
      }
    };
    const timer = setInterval(commit, this.options.commitIntervalMs ?? 20);
    const end = () => {
      clearInterval(timer);
      out.end();
    };
    this.sessions.add(end);
    signal.addEventListener("abort", end, { once: true });
    const handle = (request: pb.ProcessRequest) => {
      const kind = request.kind;
      switch (kind.case) {
        case "open":
          shardCount = kind.value.shardCount;
          out.push({ kind: { case: "ready", value: { workerId: this.id } } });
          return;
        case "batch": {
          const seq = Number(kind.value.seq);
          const message = kind.value.batch!;
          try {
            const bad = this.apply(decodeBatch(message, cache), message, shardCount);
            if (bad.length > 0) out.push({ kind: { case: "badEvents", value: { seq: kind.value.seq, events: bad } } });
          } catch (error) {
            const failure = MeshError.from(error);
            out.push({
              kind: { case: "failure", value: { seq: kind.value.seq, code: failure.code, message: failure.message } },
            });
          }
          applied = seq;
          return;
        }
        case "acquire": {
          const epoch = Number(kind.value.epoch);
          for (const shard of kind.value.shards) {
            const stored = this.store.shards.get(shard);
            this.local.set(shard, stored ? { ...stored, watermarks: new Map(stored.watermarks) } : emptyState());
            this.owned.add(shard);
            this.store.epochs.set(shard, Math.max(epoch, this.store.epochs.get(shard) ?? 0));
          }
          this.note({ kind: "acquire", worker: this.id, shards: [...kind.value.shards], epoch });
          out.push({ kind: { case: "acquired", value: { shards: kind.value.shards, epoch: kind.value.epoch } } });
          return;
        }
        case "release": {
          // Everything before the release is applied (the stream is ordered): take the shards'
          // state now and keep applying later batches while the commit is (maybe) slow.
          const epoch = Number(kind.value.epoch);
          const shards = [...kind.value.shards];
          this.note({ kind: "release-start", worker: this.id, shards, epoch });
          const states = new Map<number, ShardState>();
          for (const shard of shards) {
            const state = this.local.get(shard);
            if (state !== undefined && this.owned.has(shard)) states.set(shard, state);
            this.local.delete(shard);
            this.owned.delete(shard);
            this.dirty.delete(shard);
          }
          void this.finishRelease(states, () => {
            this.note({ kind: "release", worker: this.id, shards, epoch });
            out.push({ kind: { case: "released", value: { shards, epoch: kind.value.epoch } } });
          });
          return;
        }
        default:
          return;
      }
    };
    (async () => {
      for await (const request of requests) {
        if (this.dead) return;
        handle(request);
      }
      commit();
    })().then(end, end);
    return out;
  }

  /** Applies a batch; returns its bad events. */
  private apply(batch: Batch, message: pb.Batch, shardCount: number): MessageInitShape<typeof pb.BadEventSchema>[] {
    if (this.options.filterOnly === true) {
      this.filter(batch);
      return [];
    }
    const window = message.window;
    const sourceId = message.origin?.sourceId ?? "";
    const seq = Number(message.origin?.seq ?? 0n);
    const schema = batch.schema;
    this.schemas.set(window, schema);
    const sumIndex = schema.indexOf(this.options.sumField ?? "value");
    const shards = hashRows(batch, schema.keyIndexes);
    const fresh = new Map<number, boolean>();
    const bad: MessageInitShape<typeof pb.BadEventSchema>[] = [];
    const rows = this.options.record === false && this.options.badRow === undefined ? undefined : batchToRows(batch);
    for (let row = 0; row < batch.length; row++) {
      const shard = (shards[row] as number) % shardCount;
      shards[row] = shard;
      let state = this.local.get(shard);
      if (state === undefined) {
        state = emptyState();
        this.local.set(shard, state);
      }
      let isFresh = fresh.get(shard);
      if (isFresh === undefined) {
        isFresh = (state.watermarks.get(sourceId) ?? 0) < seq;
        fresh.set(shard, isFresh);
      }
      if (!isFresh) continue;
      const reason = rows && this.options.badRow ? this.options.badRow(rows[row] as Row) : undefined;
      if (reason !== undefined) {
        bad.push({ window, row, field: "", reason });
        continue;
      }
      state.sum += sumIndex < 0 ? 0 : Number(getValue(batch, sumIndex, row) ?? 0);
      state.count++;
      this.applied++;
    }
    for (const [shard, isFresh] of fresh) {
      if (!isFresh) continue;
      (this.local.get(shard) as ShardState).watermarks.set(sourceId, seq);
      this.dirty.add(shard);
    }
    if (this.options.record !== false) {
      const shardList = Array.from(shards.subarray(0, batch.length));
      this.received.push({ window, sourceId, seq, rows: rows ?? [], shards: shardList });
      this.note({
        kind: "batch",
        worker: this.id,
        window,
        sourceId,
        seq,
        shards: [...new Set(shardList)],
        rows: batch.length,
      });
      const table = this.table.get(window) ?? new Map<string, Row>();
      this.table.set(window, table);
      for (const row of rows ?? [])
        table.set(JSON.stringify(schema.keyIndexes.map((k) => row[schema.fields[k]!.name])), row);
    }
    for (const subscriber of this.subscribers) if (subscriber.window === window) subscriber.push(message);
    return bad;
  }

  /** Commits released shards once releases are no longer held, then confirms. */
  private async finishRelease(states: Map<number, ShardState>, confirm: () => void): Promise<void> {
    while ((this.releasesHeld || this.stalled) && !this.dead) {
      await new Promise<void>((resolve) => this.unstall.add(resolve));
    }
    if (this.dead) return;
    for (const [shard, state] of states)
      this.store.shards.set(shard, { ...state, watermarks: new Map(state.watermarks) });
    confirm();
  }

  /** The filter-only project: a pass over one column, counting the rows it keeps. */
  private filter(batch: Batch): void {
    const index = batch.schema.indexOf(this.options.sumField ?? "value");
    const values = batch.columns[index]?.values;
    if (!(values instanceof Float64Array)) return;
    let kept = 0;
    for (let row = 0; row < batch.length; row++) if ((values[row] as number) >= 0) kept++;
    this.applied += kept;
  }

  /** Writes owned shards' state to the store. */
  private commitShards(shards: readonly number[]): void {
    for (const shard of shards) {
      this.dirty.delete(shard);
      const state = this.local.get(shard);
      if (state === undefined || !this.owned.has(shard)) continue;
      this.store.shards.set(shard, { ...state, watermarks: new Map(state.watermarks) });
    }
  }

  private note(entry: TimelineEntry): void {
    if (this.options.record !== false) this.store.timeline.push(entry);
  }

  private subscribe(
    window: string,
    signal: AbortSignal,
  ): AsyncIterable<MessageInitShape<typeof pb.WorkerServiceSubscribeResponseSchema>> {
    const out = createChannel<MessageInitShape<typeof pb.WorkerServiceSubscribeResponseSchema>>({
      highWater: Number.POSITIVE_INFINITY,
    });
    const replicated = this.options.replicatedWindows?.includes(window) ?? false;
    const subscriber = { window, push: (batch: pb.Batch) => out.push({ batch, replicated }) };
    this.subscribers.add(subscriber);
    const end = () => {
      this.subscribers.delete(subscriber);
      out.end();
    };
    this.sessions.add(end);
    signal.addEventListener("abort", end, { once: true });
    return out;
  }

  private snapshot(window: string): MessageInitShape<typeof pb.SnapshotResponseSchema> {
    const schema = this.schemas.get(window);
    if (schema === undefined)
      throw new MeshError("NOT_FOUND", `window "${window}" has no rows here`, { details: { window } });
    const rows = [...(this.table.get(window)?.values() ?? [])];
    return {
      rows: encodeBatch(rowsToBatch(schema, rows), { window }),
      replicated: this.options.replicatedWindows?.includes(window) ?? false,
    };
  }
}

function emptyState(): ShardState {
  return { sum: 0, count: 0, watermarks: new Map() };
}
