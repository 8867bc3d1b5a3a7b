import type { StateBackend } from "@espmesh/state-client";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type { EngineHost } from "./engine-host.js";
import type { OutputBindings } from "./output-bindings.js";

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** Stable id (pod name, or the local worker's name). */
  id: string;
  project: string;
  /** @default the project name */
  deployment?: string;
  /** The engine of the deployment's project (see `createEngineHost`). */
  engine: EngineHost;
  /** Where checkpoints go; undefined = `state: none` (state lives only in this worker). */
  state?: StateBackend;
  /**
   * Output bindings of the deployment (cascades): bound windows' outputs are published to
   * JetStream, and every checkpoint waits until they are stored. The engine must return output
   * shards (`createEngineHost(model, { outputShards: true })`). @default none
   */
  outputs?: OutputBindings;
  /** `host:port` to serve WorkerService on. @default "127.0.0.1:0" */
  address?: string;
  /** @default 100 */
  checkpointIntervalMs?: number;
  /** Batches a slow subscriber may fall behind before it is disconnected. @default 1024 */
  maxSubscriberLag?: number;
  /** @default noopLogger */
  logger?: Logger;
  /** Current time in microseconds. @default wall clock */
  now?: () => number;
}

/** {@link WorkerOptions} with every default applied. */
export interface CompiledWorkerOptions {
  readonly id: string;
  readonly project: string;
  readonly deployment: string;
  readonly engine: EngineHost;
  readonly state: StateBackend | undefined;
  readonly outputs: OutputBindings | undefined;
  readonly address: string;
  readonly checkpointIntervalMs: number;
  readonly maxSubscriberLag: number;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Applies defaults and validates {@link WorkerOptions}. */
export function compileWorkerOptions(options: WorkerOptions): CompiledWorkerOptions {
  if (!options.id) throw new MeshError("INVALID_ARGUMENT", "worker option `id` is required");
  if (!options.project) throw new MeshError("INVALID_ARGUMENT", "worker option `project` is required");
  const checkpointIntervalMs = options.checkpointIntervalMs ?? 100;
  if (!(checkpointIntervalMs >= 1)) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `worker option \`checkpointIntervalMs\` must be >= 1, got ${checkpointIntervalMs}`,
    );
  }
  return {
    id: options.id,
    project: options.project,
    deployment: options.deployment ?? options.project,
    engine: options.engine,
    state: options.state,
    outputs: options.outputs,
    address: options.address ?? "127.0.0.1:0",
    checkpointIntervalMs,
    maxSubscriberLag: options.maxSubscriberLag ?? 1024,
    logger: options.logger ?? noopLogger,
    now: options.now ?? (() => Date.now() * 1000),
  };
}
