import { resolve } from "node:path";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { DEFAULT_CONTROL_PORT } from "../mesh/address.js";

/** Options of {@link createEmbeddedMesh}. */
export interface EmbeddedMeshOptions {
  /** HTTP port of the gateway; 0 picks a free one. @default 8080 */
  port?: number;
  /** Address the gateway listens on. @default "127.0.0.1" (this machine only) */
  host?: string;
  /** Port of the control plane's gRPC server (the SDK's address); 0 picks a free one. @default 7400 */
  controlPort?: number;
  /** Workers of each deployment whose settings set no replica bounds. @default 2 */
  workers?: number;
  /** Redis for window state and deployments. @default none: state in memory, deployments in a file */
  redisUrl?: string;
  /** NATS for cascades, passed to every worker and balancer as `ESPMESH_NATS_URL`. @default none */
  natsUrl?: string;
  /** Where deployments (without Redis), project files and the log live. @default ".espmesh" */
  dataDir?: string;
  /** Bearer token of the gateway's HTTP API. @default none (open) */
  token?: string;
  /** Largest HTTP request body in bytes. @default the gateway's 16 MiB */
  bodyLimit?: number;
  /** SIGTERM-to-SIGKILL grace of a child process when the mesh stops. @default 5000 */
  stopGraceMs?: number;
  /** @default noopLogger */
  logger?: Logger;
}

/** {@link EmbeddedMeshOptions} with every default applied. */
export interface CompiledEmbeddedMeshOptions {
  readonly port: number;
  readonly host: string;
  readonly controlPort: number;
  readonly workers: number;
  readonly redisUrl: string | undefined;
  readonly natsUrl: string | undefined;
  /** Absolute. */
  readonly dataDir: string;
  readonly token: string | undefined;
  readonly bodyLimit: number | undefined;
  readonly stopGraceMs: number;
  readonly logger: Logger;
}

function invalid(field: string, message: string): MeshError {
  return new MeshError("INVALID_ARGUMENT", `${field} ${message}`, { details: { field } });
}

function port(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw invalid(field, `must be a port from 0 to 65535, got ${value}`);
  return value;
}

function url(field: string, value: string | undefined, schemes: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalid(field, `must be a URL like ${schemes[0]}//127.0.0.1, got "${value}"`);
  }
  if (!schemes.includes(parsed.protocol)) throw invalid(field, `must use ${schemes.join(" or ")}, got "${value}"`);
  return value;
}

/** Applies the defaults of {@link EmbeddedMeshOptions} and rejects bad values, naming the option. */
export function compileEmbeddedMeshOptions(options: EmbeddedMeshOptions = {}): CompiledEmbeddedMeshOptions {
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw invalid("workers", `must be an integer from 1 to 64, got ${workers}`);
  }
  const stopGraceMs = options.stopGraceMs ?? 5000;
  if (!Number.isInteger(stopGraceMs) || stopGraceMs < 0)
    throw invalid("stopGraceMs", `must be >= 0, got ${stopGraceMs}`);
  if (options.token !== undefined && options.token.trim() === "") throw invalid("token", "must not be empty");
  if (options.bodyLimit !== undefined && !(Number.isSafeInteger(options.bodyLimit) && options.bodyLimit > 0)) {
    throw invalid("bodyLimit", `must be a positive integer, got ${options.bodyLimit}`);
  }
  return {
    port: port("port", options.port ?? 8080),
    host: options.host ?? "127.0.0.1",
    controlPort: port("controlPort", options.controlPort ?? DEFAULT_CONTROL_PORT),
    workers,
    redisUrl: url("redis", options.redisUrl, ["redis:", "rediss:"]),
    natsUrl: url("nats", options.natsUrl, ["nats:", "tls:"]),
    dataDir: resolve(options.dataDir ?? ".espmesh"),
    token: options.token,
    bodyLimit: options.bodyLimit,
    stopGraceMs,
    logger: options.logger ?? noopLogger,
  };
}
