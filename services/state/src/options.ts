/**
 * Options of the state service, compiled once into a defaulted, validated object.
 */
import { DEFAULT_MAX_COMMIT_BYTES } from "@espmesh/state-client";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type { Redis, RedisOptions } from "ioredis";
import { checkKeyPrefix, DEFAULT_KEY_PREFIX } from "./keys.js";

/** Options of {@link createStateService}. */
export interface StateServiceOptions {
  /** `host:port` to listen on; port 0 picks a free port. @default "127.0.0.1:0" */
  address?: string;
  /**
   * Where checkpoints live: "redis", or "memory" for the embedded mode (gone with the process;
   * no Redis needed, `redisUrl`/`redis` are ignored).
   * @default "redis"
   */
  store?: "redis" | "memory";
  /**
   * Redis to connect to (the service creates, owns and closes the client). Conflicts with `redis`.
   * @default "redis://127.0.0.1:6379" when `redis` is not given
   */
  redisUrl?: string;
  /**
   * A Redis client to use instead of `redisUrl`; the caller owns it (it is not closed by `stop()`).
   * Configure it like {@link stateRedisOptions} so a Redis outage fails calls at once instead of
   * queueing them. Conflicts with `redisUrl`.
   */
  redis?: Redis;
  /** Size limit of the window state of one commit, in bytes. @default 67108864 (64 MiB) */
  maxCommitBytes?: number;
  /** Prefix of every Redis key (no braces). @default "espmesh:state:" */
  keyPrefix?: string;
  /** Time after which a Redis command counts as failed (UNAVAILABLE), in milliseconds. @default 10000 */
  redisCommandTimeoutMs?: number;
  /** Grace period of `stop()` for calls in flight, in milliseconds. @default 5000 */
  stopGraceMs?: number;
  /** @default noopLogger */
  logger?: Logger;
}

/** {@link StateServiceOptions}, defaulted and validated. */
export interface CompiledStateServiceOptions {
  readonly address: string;
  readonly store: "redis" | "memory";
  readonly redis: { readonly url: string } | { readonly client: Redis };
  readonly maxCommitBytes: number;
  readonly keyPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly logger: Logger;
}

function positive(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new MeshError("INVALID_ARGUMENT", `state service option ${field} must be a positive integer, got ${value}`, {
      details: { field },
    });
  }
  return value;
}

/** Defaults and validates {@link StateServiceOptions}; `redisUrl` and `redis` together are rejected. */
export function compileStateServiceOptions(options: StateServiceOptions = {}): CompiledStateServiceOptions {
  if (options.redisUrl !== undefined && options.redis !== undefined) {
    throw new MeshError("INVALID_ARGUMENT", "state service options redisUrl and redis conflict: give one of them", {
      details: { field: "redisUrl" },
    });
  }
  const address = options.address ?? "127.0.0.1:0";
  if (!/^.+:\d+$/.test(address)) {
    throw new MeshError("INVALID_ARGUMENT", `state service option address must be host:port, got ${address}`, {
      details: { field: "address" },
    });
  }
  if (options.store !== undefined && options.store !== "redis" && options.store !== "memory") {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `state service option store must be "redis" or "memory", got ${options.store}`,
      {
        details: { field: "store" },
      },
    );
  }
  return {
    address,
    store: options.store ?? "redis",
    redis: options.redis ? { client: options.redis } : { url: options.redisUrl ?? "redis://127.0.0.1:6379" },
    maxCommitBytes: positive("maxCommitBytes", options.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES),
    keyPrefix: checkKeyPrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX),
    redisCommandTimeoutMs: positive("redisCommandTimeoutMs", options.redisCommandTimeoutMs ?? 10_000),
    stopGraceMs: positive("stopGraceMs", options.stopGraceMs ?? 5000),
    logger: (options.logger ?? noopLogger).child({ component: "state" }),
  };
}

/**
 * ioredis options that make a Redis outage visible at once: no offline queue, no resending of
 * unanswered commands after a reconnect (the caller retries, commits are idempotent), a command
 * timeout, and reconnection forever with capped backoff.
 */
export function stateRedisOptions(commandTimeoutMs = 10_000) {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 5000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  } satisfies RedisOptions;
}
