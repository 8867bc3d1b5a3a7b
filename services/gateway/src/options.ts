import type { EspClient, PublisherOptions } from "@espmesh/client";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";

/** 16 MiB, the default request body limit. */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /**
   * `host:port` of the mesh: its control plane (which names each project's balancer) or a
   * balancer. Required unless `client` is given; conflicts with it.
   */
  address?: string;
  /** `host:port` of the balancer to publish to and subscribe at. @default looked up per project */
  balancerAddress?: string;
  /** Token the gateway's own gRPC calls to the mesh carry. @default none */
  meshToken?: string;
  /**
   * A client of the mesh to use instead of one made from `address`; the caller owns it (`stop()`
   * does not close it). Conflicts with `address`, `balancerAddress` and `meshToken`.
   */
  client?: EspClient;
  /** Bearer token every HTTP request must carry, except health, metrics and docs. @default none (open) */
  token?: string;
  /** Address the HTTP server listens on. @default "0.0.0.0" */
  host?: string;
  /** Port the HTTP server listens on; 0 picks a free one. @default 8080 */
  port?: number;
  /** Largest request body in bytes; a larger one is refused with 413. @default 16777216 (16 MiB) */
  bodyLimit?: number;
  /**
   * How long `POST .../events` waits for the mesh to commit the events before answering 504
   * (the events stay queued and are still delivered). @default 30000
   */
  commitTimeoutMs?: number;
  /** How long `/readyz` waits for the mesh to answer. @default 2000 */
  readyTimeoutMs?: number;
  /** Interval of keep-alive comments on server-sent event streams and pings on WebSockets. @default 15000 */
  heartbeatMs?: number;
  /** Options of the publishers the gateway keeps per source window. @default lingerMs 2, sourcePrefix "gateway" */
  publisher?: PublisherOptions;
  /** @default noopLogger */
  logger?: Logger;
}

/** {@link GatewayOptions} with every default applied. */
export interface CompiledGatewayOptions {
  readonly mesh:
    | { readonly kind: "address"; readonly address: string; readonly balancerAddress?: string; readonly token?: string }
    | { readonly kind: "client"; readonly client: EspClient };
  readonly token: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly bodyLimit: number;
  readonly commitTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly publisher: PublisherOptions;
  readonly logger: Logger;
}

function invalid(field: string, message: string): MeshError {
  return new MeshError("INVALID_ARGUMENT", `gateway option ${field} ${message}`, { details: { field } });
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) throw invalid(field, `must be a positive integer, got ${result}`);
  return result;
}

/**
 * Applies the defaults of {@link GatewayOptions} and rejects bad or conflicting values: exactly
 * one of `address` and `client`; `balancerAddress` and `meshToken` only with `address`; a
 * non-empty token; a port from 0 to 65535; positive sizes and times.
 */
export function compileGatewayOptions(options: GatewayOptions): CompiledGatewayOptions {
  if (options.client !== undefined && options.address !== undefined) {
    throw invalid("client", "conflicts with address: give one of them");
  }
  if (options.client === undefined && (options.address === undefined || options.address.trim() === "")) {
    throw invalid("address", "is required (the mesh's host:port) unless client is given");
  }
  if (options.client !== undefined) {
    for (const field of ["balancerAddress", "meshToken"] as const) {
      if (options[field] !== undefined) throw invalid(field, "conflicts with client: configure the client instead");
    }
  }
  if (options.token !== undefined && options.token.trim() === "") throw invalid("token", "must not be empty");
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalid("port", `must be 0-65535, got ${port}`);
  const mesh: CompiledGatewayOptions["mesh"] =
    options.client !== undefined
      ? { kind: "client", client: options.client }
      : {
          kind: "address",
          address: options.address as string,
          ...(options.balancerAddress === undefined ? {} : { balancerAddress: options.balancerAddress }),
          ...(options.meshToken === undefined ? {} : { token: options.meshToken }),
        };
  const logger = options.logger ?? noopLogger;
  return {
    mesh,
    token: options.token,
    host: options.host ?? "0.0.0.0",
    port,
    bodyLimit: positiveInteger("bodyLimit", options.bodyLimit, DEFAULT_BODY_LIMIT),
    commitTimeoutMs: positiveInteger("commitTimeoutMs", options.commitTimeoutMs, 30_000),
    readyTimeoutMs: positiveInteger("readyTimeoutMs", options.readyTimeoutMs, 2000),
    heartbeatMs: positiveInteger("heartbeatMs", options.heartbeatMs, 15_000),
    publisher: { lingerMs: 2, sourcePrefix: "gateway", ...options.publisher },
    logger: logger.child({ component: "gateway" }),
  };
}
