/**
 * The `service` StateBackend: a gRPC client of the state service. Calls that fail with
 * UNAVAILABLE (service restarting, Redis down) are retried with backoff while the channel
 * reconnects by itself; every call is safe to repeat (commits are idempotent under the epoch,
 * acquire and release at the same owner and epoch are no-ops the second time).
 */
import { createServiceClient, type ServiceClient, StateService } from "@espmesh/proto";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { decodeCommitResponse } from "./commit-decoder.js";
import { encodeCommitRequest } from "./commit-encoder.js";
import { checkEpoch, checkOwner, checkScopeName, checkShards, normalizeCommit } from "./normalize.js";
import { checkpointFromProto } from "./proto-convert.js";
import { type RetryPolicy, withRetries } from "./retry.js";
import type { CommitRequest, CommitResult, ShardCheckpoint, StateBackend, StateCallOptions } from "./types.js";

/** Options of {@link createServiceBackend}. */
export interface ServiceBackendOptions {
  /** The project the backend is scoped to. */
  project: string;
  /** The deployment the backend is scoped to. */
  deployment: string;
  /** The state service, `host:port`. */
  address: string;
  /** Deadline of one attempt of a call, in milliseconds. @default 30000 */
  callTimeoutMs?: number;
  /** How long UNAVAILABLE calls are retried before the error is returned, in milliseconds. @default 30000 */
  retryTimeoutMs?: number;
  /** First retry backoff (and gRPC reconnect backoff), in milliseconds. @default 50 */
  initialBackoffMs?: number;
  /** Cap of the retry and reconnect backoff, in milliseconds. @default 2000 */
  maxBackoffMs?: number;
  /** Largest response (Acquire/Load checkpoints) accepted, in bytes. @default 268435456 (256 MiB) */
  maxResponseBytes?: number;
  /** Channel credentials. @default insecure */
  credentials?: grpc.ChannelCredentials;
  /** @default noopLogger */
  logger?: Logger;
}

/** {@link ServiceBackendOptions}, defaulted and validated. */
export interface CompiledServiceBackendOptions {
  readonly project: string;
  readonly deployment: string;
  readonly address: string;
  readonly callTimeoutMs: number;
  readonly retry: RetryPolicy;
  readonly maxResponseBytes: number;
  readonly credentials: grpc.ChannelCredentials | undefined;
  readonly logger: Logger;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new MeshError("INVALID_ARGUMENT", `${name} must be a positive integer, got ${value}`, {
      details: { field: name },
    });
  }
  return value;
}

/** Defaults and validates {@link ServiceBackendOptions}. */
export function compileServiceBackendOptions(options: ServiceBackendOptions): CompiledServiceBackendOptions {
  if (typeof options.address !== "string" || options.address.length === 0) {
    throw new MeshError("INVALID_ARGUMENT", "address of the state service must be a non-empty host:port", {
      details: { field: "address" },
    });
  }
  const initialBackoffMs = positive("initialBackoffMs", options.initialBackoffMs ?? 50);
  const maxBackoffMs = positive("maxBackoffMs", options.maxBackoffMs ?? 2000);
  if (maxBackoffMs < initialBackoffMs) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `maxBackoffMs (${maxBackoffMs}) must not be below initialBackoffMs (${initialBackoffMs})`,
      { details: { field: "maxBackoffMs" } },
    );
  }
  return {
    project: checkScopeName("project", options.project),
    deployment: checkScopeName("deployment", options.deployment),
    address: options.address,
    callTimeoutMs: positive("callTimeoutMs", options.callTimeoutMs ?? 30_000),
    retry: {
      initialBackoffMs,
      maxBackoffMs,
      retryTimeoutMs: positive("retryTimeoutMs", options.retryTimeoutMs ?? 30_000),
    },
    maxResponseBytes: positive("maxResponseBytes", options.maxResponseBytes ?? 256 * 1024 * 1024),
    credentials: options.credentials,
    logger: (options.logger ?? noopLogger).child({ component: "state-client" }),
  };
}

const commitPath = `/${StateService.typeName}/${StateService.method.commit.name}`;

class ServiceBackend implements StateBackend {
  readonly kind = "service";
  readonly project: string;
  readonly deployment: string;
  readonly #options: CompiledServiceBackendOptions;
  readonly #client: ServiceClient<typeof StateService>;
  #closed = false;

  constructor(options: CompiledServiceBackendOptions) {
    this.#options = options;
    this.project = options.project;
    this.deployment = options.deployment;
    this.#client = createServiceClient(StateService, options.address, {
      ...(options.credentials ? { credentials: options.credentials } : {}),
      channelOptions: {
        "grpc.initial_reconnect_backoff_ms": Math.max(options.retry.initialBackoffMs, 20),
        "grpc.max_reconnect_backoff_ms": options.retry.maxBackoffMs,
        "grpc.max_receive_message_length": options.maxResponseBytes,
        "grpc.max_send_message_length": -1,
        // Receive large Acquire/Load responses without 64 KiB flow-control pacing.
        "grpc-node.flow_control_window": 16 * 1024 * 1024,
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
      },
    });
  }

  #call<T>(
    method: string,
    options: StateCallOptions | undefined,
    call: (client: ServiceClient<typeof StateService>, attempt: number) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new MeshError("FAILED_PRECONDITION", "the state backend is closed"));
    }
    const signal = options?.signal;
    return withRetries(this.#options.retry, (attempt) => call(this.#client, attempt), {
      signal,
      onRetry: (error, attempt, delayMs) =>
        this.#options.logger.warn(
          { err: error, method, attempt, delayMs: Math.round(delayMs), address: this.#options.address },
          "state service unavailable, retrying",
        ),
    });
  }

  #callOptions(options: StateCallOptions | undefined): { deadline: number; signal?: AbortSignal } {
    return options?.signal
      ? { deadline: this.#options.callTimeoutMs, signal: options.signal }
      : { deadline: this.#options.callTimeoutMs };
  }

  async acquire(
    shards: readonly number[],
    owner: string,
    epoch: number,
    options?: StateCallOptions,
  ): Promise<ShardCheckpoint[]> {
    checkShards(shards);
    checkOwner(owner);
    checkEpoch(epoch);
    const request = { ...this.#scope(), shards: [...shards], owner, epoch: BigInt(epoch) };
    const response = await this.#call("acquire", options, (client) =>
      client.acquire(request, this.#callOptions(options)),
    );
    return response.checkpoints.map(checkpointFromProto);
  }

  async commit(request: CommitRequest, options?: StateCallOptions): Promise<CommitResult> {
    const body = encodeCommitRequest(this, normalizeCommit(request));
    return this.#call("commit", options, (client) => this.#commitOnce(client.channel, body, options?.signal));
  }

  /**
   * One Commit call with the request already encoded by the hand-written encoder (the hot path:
   * the generic reflective encoder costs more than the rest of the call).
   */
  #commitOnce(channel: grpc.Client, body: Buffer, signal: AbortSignal | undefined): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      const call = channel.makeUnaryRequest(
        commitPath,
        (encoded: Buffer) => encoded,
        (bytes: Buffer) => decodeCommitResponse(bytes),
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + this.#options.callTimeoutMs },
        (error, response) => {
          signal?.removeEventListener("abort", cancel);
          if (error) reject(MeshError.from(error));
          else if (response) resolve(response);
          else reject(new MeshError("INTERNAL", "the state service answered Commit with no response"));
        },
      );
      const cancel = () => call.cancel();
      if (signal?.aborted) cancel();
      else signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  async load(shards: readonly number[], options?: StateCallOptions): Promise<ShardCheckpoint[]> {
    checkShards(shards);
    const request = { ...this.#scope(), shards: [...shards] };
    const response = await this.#call("load", options, (client) => client.load(request, this.#callOptions(options)));
    return response.checkpoints.map(checkpointFromProto);
  }

  async release(shards: readonly number[], owner: string, epoch: number, options?: StateCallOptions): Promise<void> {
    checkShards(shards);
    checkOwner(owner);
    checkEpoch(epoch);
    const request = { ...this.#scope(), shards: [...shards], owner, epoch: BigInt(epoch) };
    await this.#call("release", options, (client) => client.release(request, this.#callOptions(options)));
  }

  async dropDeployment(options?: StateCallOptions): Promise<void> {
    await this.#call("dropDeployment", options, async (client, attempt) => {
      try {
        await client.dropDeployment(this.#scope(), this.#callOptions(options));
      } catch (error) {
        // A retry after a drop whose reply was lost finds nothing left: that drop succeeded.
        if (attempt > 1 && error instanceof MeshError && error.code === "NOT_FOUND") return;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }

  #scope(): { project: string; deployment: string } {
    return { project: this.project, deployment: this.deployment };
  }
}

/** A `service` StateBackend: the gRPC client of the state service at `address`. */
export function createServiceBackend(options: ServiceBackendOptions): StateBackend {
  return new ServiceBackend(compileServiceBackendOptions(options));
}
