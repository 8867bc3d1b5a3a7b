/**
 * A stand-in for the mesh in gateway tests: a real gRPC server implementing ControlService and
 * IngestService in one process, with each deployment's source windows kept as in-memory tables.
 * It is not the mesh (no balancer, workers or state service): it loads projects with the real
 * engine loader, applies published batches to their source window's table at once, acknowledges
 * them, streams them to that window's subscribers and answers QueryWindow from the table.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { loadProject, type ProjectModel } from "@espmesh/engine";
import {
  batchToEvents,
  createSchemaCache,
  decodeBatch,
  type Event,
  encodeBatch,
  type Row,
  rowsToBatch,
  type Schema,
} from "@espmesh/events";
import {
  addService,
  bindServer,
  type Channel,
  ControlService,
  createChannel,
  type DeploymentStatusSchema,
  IngestService,
  type PublishRequest,
  type PublishResponseSchema,
  shutdownServer,
} from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";

interface Deployment {
  readonly model: ProjectModel;
  readonly settingsJson: string;
  /** Rows by key, per window. */
  readonly tables: Map<string, Map<string, Row>>;
  readonly subscribers: Map<string, Set<Channel<Event[]>>>;
}

/** A running stand-in for the mesh. */
export interface MeshStandIn {
  /** `host:port` to point the gateway (or an SDK client) at. */
  readonly address: string;
  /** Batches published and acknowledged so far. */
  readonly publishedBatches: number;
  /** Open Subscribe calls. */
  readonly subscriptions: number;
  /** The rows of a window's table. */
  rows(project: string, window: string): Row[];
  stop(): Promise<void>;
}

function notFound(what: string): MeshError {
  return new MeshError("NOT_FOUND", what);
}

function keyOf(schema: Schema, row: Row): string {
  const indexes = schema.keyIndexes.length > 0 ? schema.keyIndexes : schema.fields.map((_field, index) => index);
  return JSON.stringify(indexes.map((index) => row[schema.fields[index]?.name as string] ?? null));
}

/** Options of {@link startMeshStandIn}. */
export interface MeshStandInOptions {
  /** Delay before each publish acknowledgement, like a worker's checkpoint interval. @default 0 */
  ackDelayMs?: number;
}

/** Starts a {@link MeshStandIn} on 127.0.0.1 at a free port. */
export async function startMeshStandIn(options: MeshStandInOptions = {}): Promise<MeshStandIn> {
  const ackDelayMs = options.ackDelayMs ?? 0;
  const deployments = new Map<string, Deployment>();
  let publishedBatches = 0;
  let subscriptions = 0;

  const deployment = (name: string): Deployment => {
    const found = deployments.get(name);
    if (!found) throw notFound(`no deployment "${name}"`);
    return found;
  };
  const windowOf = (name: string, window: string) => {
    const found = deployment(name);
    const model = found.model.window(window);
    if (!model) throw notFound(`project "${name}" has no window "${window}"`);
    return { deployment: found, model };
  };
  const statusOf = (name: string, found: Deployment): MessageInitShape<typeof DeploymentStatusSchema> => ({
    name,
    settingsJson: found.settingsJson,
    replicasDesired: 1,
    replicasReady: 1,
    workers: [
      { id: `${name}-0`, address: "127.0.0.1:0", pid: process.pid, ready: true, shardsOwned: 4096, restarts: 0 },
    ],
    inFlight: 0n,
    shardMoves: 0n,
    sourceWindows: [...found.model.sources],
    projectFormat: "xml",
    phase: "running",
    balancerAddress: "",
  });
  const deploy = (name: string, project: string, settingsJson: string): Deployment => {
    const model = loadProject(project, { name });
    const settings = JSON.parse(settingsJson || "{}") as { routing?: Record<string, unknown> };
    for (const window of Object.keys(settings.routing ?? {})) {
      if (!model.sources.includes(window)) {
        throw new MeshError("INVALID_ARGUMENT", `routing: unknown source window "${window}"`, { details: { window } });
      }
    }
    const found: Deployment = {
      model,
      settingsJson: settingsJson || "{}",
      tables: new Map(model.windows.map((window) => [window.name, new Map()])),
      subscribers: new Map(),
    };
    deployments.set(name, found);
    return found;
  };

  const server = new grpc.Server();
  addService(server, ControlService, {
    deploy(request) {
      const created = !deployments.has(request.name);
      const found = deploy(request.name, request.project, request.settingsJson);
      return { status: statusOf(request.name, found), created };
    },
    update(request) {
      const current = deployment(request.name);
      const found = request.project
        ? deploy(request.name, request.project, request.settingsJson || current.settingsJson)
        : current;
      return { status: statusOf(request.name, found) };
    },
    delete(request) {
      deployment(request.name);
      deployments.delete(request.name);
      return {};
    },
    get(request) {
      return { status: statusOf(request.name, deployment(request.name)) };
    },
    list() {
      return { deployments: [...deployments.entries()].map(([name, found]) => statusOf(name, found)) };
    },
    scale(request) {
      return { status: statusOf(request.name, deployment(request.name)) };
    },
  });
  addService(server, IngestService, {
    publish(requests) {
      // Acks travel on their own channel so that a delayed ack does not hold up the next batch.
      const acks = createChannel<MessageInitShape<typeof PublishResponseSchema>>();
      const pending = new Set<Promise<void>>();
      const apply = (request: PublishRequest) => {
        const batch = request.batch;
        if (!batch) throw new MeshError("INVALID_ARGUMENT", "a publish request without a batch");
        const { deployment: found, model } = windowOf(request.project, batch.window);
        if (model.inputs.length > 0) {
          throw new MeshError("INVALID_ARGUMENT", `"${batch.window}" is not a source window`);
        }
        const events = batchToEvents(decodeBatch(batch, cache));
        const table = found.tables.get(batch.window) as Map<string, Row>;
        for (const event of events) {
          const key = keyOf(model.schema, event.fields);
          if (event.opcode === "delete") table.delete(key);
          else table.set(key, event.fields);
        }
        for (const subscriber of found.subscribers.get(batch.window) ?? []) subscriber.push(events);
        publishedBatches += 1;
        const ack = {
          ...(batch.origin ? { origin: batch.origin } : {}),
          result: { case: "ack" as const, value: { accepted: events.length } },
        };
        if (ackDelayMs === 0) return acks.push(ack);
        const delayed = new Promise<void>((resolve) => setTimeout(resolve, ackDelayMs)).then(() => acks.push(ack));
        pending.add(delayed);
        void delayed.finally(() => pending.delete(delayed));
      };
      const cache = createSchemaCache();
      const read = async () => {
        for await (const request of requests) apply(request);
        await Promise.all([...pending]);
      };
      read().then(
        () => acks.end(),
        (error: unknown) => acks.end(error),
      );
      return acks;
    },
    async *subscribe(request, context) {
      const { deployment: found, model } = windowOf(request.project, request.window);
      const channel = createChannel<Event[]>();
      const subscribers = found.subscribers.get(request.window) ?? new Set();
      found.subscribers.set(request.window, subscribers);
      subscribers.add(channel);
      subscriptions += 1;
      const end = () => channel.end();
      context.signal.addEventListener("abort", end, { once: true });
      try {
        if (request.snapshot)
          channel.push(
            [...(found.tables.get(request.window)?.values() ?? [])].map((fields) => ({ opcode: "insert", fields })),
          );
        for await (const events of channel) {
          if (events.length === 0) continue;
          const batch = rowsToBatch(
            model.schema,
            events.map((event) => event.fields),
            events.map((event) => event.opcode),
          );
          yield { batch: encodeBatch(batch, { window: request.window }) };
        }
      } finally {
        subscriptions -= 1;
        subscribers.delete(channel);
        context.signal.removeEventListener("abort", end);
      }
    },
    queryWindow(request) {
      const { deployment: found, model } = windowOf(request.project, request.window);
      let rows = [...(found.tables.get(request.window)?.values() ?? [])];
      if (request.limit > 0) rows = rows.slice(0, request.limit);
      return { rows: encodeBatch(rowsToBatch(model.schema, rows), { window: request.window }) };
    },
  });
  const port = await bindServer(server, "127.0.0.1:0");
  return {
    address: `127.0.0.1:${port}`,
    get publishedBatches() {
      return publishedBatches;
    },
    get subscriptions() {
      return subscriptions;
    },
    rows(project, window) {
      return [...(deployments.get(project)?.tables.get(window)?.values() ?? [])];
    },
    async stop() {
      for (const found of deployments.values()) {
        for (const set of found.subscribers.values()) for (const channel of set) channel.end();
      }
      await shutdownServer(server, 1000);
    },
  };
}
