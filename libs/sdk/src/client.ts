import {
  batchToEvents,
  batchToRows,
  createSchemaCache,
  decodeBatch,
  type Event,
  type Row,
  type Schema,
} from "@espmesh/events";
import {
  ControlService,
  createServiceClient,
  type DeploymentStatus,
  IngestService,
  type ServiceClient,
} from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { type ClientOptions, compilePublisherOptions, loggerOf, type PublisherOptions } from "./options.js";
import { createPublisher, type Publisher } from "./publisher.js";

/** Options of {@link EspClient.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription. */
  signal?: AbortSignal;
  /** Receive the window's current rows (as inserts) first. @default false */
  snapshot?: boolean;
}

/**
 * The espmesh client: publish into source windows, follow and query windows, and manage
 * deployments.
 *
 * @example
 * ```ts
 * import { createClient } from "@espmesh/client";
 * const client = createClient({ address: "127.0.0.1:7400" });
 * await client.deploy("trades", projectXml, { minReplicas: 2, maxReplicas: 4 });
 * for await (const event of client.subscribe("trades", "totals")) {
 *   console.log(event.opcode, event.fields);
 * }
 * ```
 */
export interface EspClient {
  /** A batching, acknowledged publisher into `window` of `project`. */
  publisher(project: string, window: string, options?: PublisherOptions): Publisher;
  /** Output events of a window, with their opcodes, as they happen. */
  subscribe(project: string, window: string, options?: SubscribeOptions): AsyncIterable<Event>;
  /** The current rows of a window, merged across workers. */
  query(project: string, window: string, options?: { limit?: number }): Promise<Row[]>;
  /** The schema of a window. */
  schema(project: string, window: string): Promise<Schema>;
  /** Deploys (or replaces) a project; `settings` as the control plane defines them. */
  deploy(name: string, project: string, settings?: object): Promise<DeploymentStatus>;
  /** Changes a deployment's project text and/or settings. */
  update(name: string, changes: { project?: string; settings?: object }): Promise<DeploymentStatus>;
  delete(name: string): Promise<void>;
  status(name: string): Promise<DeploymentStatus>;
  list(): Promise<DeploymentStatus[]>;
  scale(name: string, replicas: number): Promise<DeploymentStatus>;
  /** Closes every channel. */
  close(): void;
}

/** Creates an {@link EspClient}. */
export function createClient(options: ClientOptions): EspClient {
  const logger = loggerOf(options);
  const metadata = new grpc.Metadata();
  if (options.token) metadata.set("authorization", `Bearer ${options.token}`);
  const channelOptions = {
    ...(options.credentials ? { credentials: options.credentials } : {}),
    metadata,
    channelOptions: { "grpc.max_receive_message_length": 64 * 1024 * 1024 },
  };
  const control = createServiceClient(ControlService, options.address, channelOptions);
  const ingestClients = new Map<string, ServiceClient<typeof IngestService>>();
  const balancerOf = new Map<string, Promise<string>>();

  const ingestAt = (address: string) => {
    let client = ingestClients.get(address);
    if (!client) {
      client = createServiceClient(IngestService, address, channelOptions);
      ingestClients.set(address, client);
    }
    return client;
  };

  // The balancer of a project: configured, named by the control plane, or the address itself.
  const resolveBalancer = (project: string): Promise<string> => {
    if (options.balancerAddress) return Promise.resolve(options.balancerAddress);
    let address = balancerOf.get(project);
    if (!address) {
      address = control.get({ name: project }).then(
        (response) => response.status?.balancerAddress || options.address,
        (error: unknown) => {
          balancerOf.delete(project);
          if (MeshError.from(error).code === "UNIMPLEMENTED") return options.address;
          throw error;
        },
      );
      balancerOf.set(project, address);
    }
    return address;
  };
  const ingest = async (project: string) => ingestAt(await resolveBalancer(project));

  const schema = async (project: string, window: string): Promise<Schema> => {
    const response = await (await ingest(project)).queryWindow({ project, window, limit: 1 });
    if (!response.rows) throw new MeshError("NOT_FOUND", `window "${window}" of project "${project}" sent no schema`);
    return decodeBatch(response.rows).schema;
  };

  const statusOf = (status: DeploymentStatus | undefined, name: string): DeploymentStatus => {
    if (!status) throw new MeshError("INTERNAL", `the control plane answered without a status for "${name}"`);
    return status;
  };

  return {
    publisher(project, window, publisherOptions) {
      return createPublisher({
        project,
        window,
        options: compilePublisherOptions(publisherOptions),
        logger,
        ingest: () => ingest(project),
        schema: () => schema(project, window),
      });
    },
    async *subscribe(project, window, subscribeOptions = {}) {
      const cache = createSchemaCache();
      const stream = (await ingest(project)).subscribe(
        { project, window, snapshot: subscribeOptions.snapshot ?? false },
        subscribeOptions.signal ? { signal: subscribeOptions.signal } : {},
      );
      try {
        for await (const response of stream) {
          if (response.batch) yield* batchToEvents(decodeBatch(response.batch, cache));
        }
      } catch (error) {
        if (subscribeOptions.signal?.aborted) return;
        throw error;
      }
    },
    async query(project, window, queryOptions = {}) {
      const response = await (await ingest(project)).queryWindow({ project, window, limit: queryOptions.limit ?? 0 });
      return response.rows ? batchToRows(decodeBatch(response.rows)) : [];
    },
    schema,
    async deploy(name, project, settings = {}) {
      const response = await control.deploy({ name, project, settingsJson: JSON.stringify(settings) });
      balancerOf.delete(name);
      return statusOf(response.status, name);
    },
    async update(name, changes) {
      const response = await control.update({
        name,
        project: changes.project ?? "",
        settingsJson: changes.settings ? JSON.stringify(changes.settings) : "",
      });
      return statusOf(response.status, name);
    },
    async delete(name) {
      await control.delete({ name });
      balancerOf.delete(name);
    },
    async status(name) {
      return statusOf((await control.get({ name })).status, name);
    },
    async list() {
      return (await control.list({})).deployments;
    },
    async scale(name, replicas) {
      return statusOf((await control.scale({ name, replicas })).status, name);
    },
    close() {
      control.close();
      for (const client of ingestClients.values()) client.close();
    },
  };
}
