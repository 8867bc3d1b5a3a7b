import type { Schema } from "@espmesh/events";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type * as grpc from "@grpc/grpc-js";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** `host:port` of the mesh: the control plane (which names each project's balancer) or a balancer. */
  address: string;
  /**
   * `host:port` of the balancer to publish to and subscribe at; by default it is looked up per
   * project from the control plane (and is `address` itself when that is a balancer).
   */
  balancerAddress?: string;
  /** Bearer token sent with every call. */
  token?: string;
  /** @default insecure (plaintext) */
  credentials?: grpc.ChannelCredentials;
  /** @default noopLogger */
  logger?: Logger;
}

/** Options of {@link EspClient.publisher}. */
export interface PublisherOptions {
  /** How long a row may wait for more rows before its batch is sent. @default 5 */
  lingerMs?: number;
  /** Rows per batch at most. @default 1000 */
  maxRows?: number;
  /**
   * Batches sent and not yet acknowledged before `publish()` waits (backpressure). A batch is
   * acknowledged once the workers' next checkpoint committed it, so a publisher sends at most about
   * `maxUnacked × maxRows` events per checkpoint interval (64 × 1000 per 100 ms caps it at 0.64M
   * events/s; 256 lets it pass 2M).
   * @default 256
   */
  maxUnacked?: number;
  /** The source window's schema; fetched from the mesh when absent. */
  schema?: Schema;
  /** First reconnect delay; doubles up to {@link maxReconnectDelayMs}. @default 100 */
  reconnectDelayMs?: number;
  /** @default 5000 */
  maxReconnectDelayMs?: number;
  /** Prefix of this publisher's origin source id (a random suffix makes it unique). @default "sdk" */
  sourcePrefix?: string;
}

/** {@link PublisherOptions} with defaults applied. */
export interface CompiledPublisherOptions {
  readonly lingerMs: number;
  readonly maxRows: number;
  readonly maxUnacked: number;
  readonly schema: Schema | undefined;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly sourcePrefix: string;
}

/** Applies defaults to {@link PublisherOptions} and rejects impossible values. */
export function compilePublisherOptions(options: PublisherOptions = {}): CompiledPublisherOptions {
  const compiled = {
    lingerMs: options.lingerMs ?? 5,
    maxRows: options.maxRows ?? 1000,
    maxUnacked: options.maxUnacked ?? 256,
    schema: options.schema,
    reconnectDelayMs: options.reconnectDelayMs ?? 100,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 5000,
    sourcePrefix: options.sourcePrefix ?? "sdk",
  };
  for (const name of ["maxRows", "maxUnacked"] as const) {
    if (!(compiled[name] >= 1)) {
      throw new MeshError("INVALID_ARGUMENT", `publisher option \`${name}\` must be >= 1, got ${compiled[name]}`);
    }
  }
  if (!(compiled.lingerMs >= 0)) {
    throw new MeshError("INVALID_ARGUMENT", `publisher option \`lingerMs\` must be >= 0, got ${compiled.lingerMs}`);
  }
  return compiled;
}

/** The logger of a client, defaulted. */
export function loggerOf(options: ClientOptions): Logger {
  return options.logger ?? noopLogger;
}
