/**
 * The state service: the gRPC StateService over Redis, with a lifecycle. Each call is validated,
 * size-checked and handed to one atomic Lua script (handlers.ts); failures reach the client as
 * gRPC statuses with the MeshError's code and details.
 */
import {
  bindServer,
  createServiceDefinition,
  StateService as StateServiceDesc,
  shutdownServer,
  toServiceError,
} from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { createStateHandlers, type StateHandlers } from "./handlers.js";
import { createMemoryStateStore } from "./memory-store.js";
import {
  type CompiledStateServiceOptions,
  compileStateServiceOptions,
  type StateServiceOptions,
  stateRedisOptions,
} from "./options.js";
import { createRedisStateStore } from "./redis-store.js";

/** Where a {@link StateService} is in its life. */
export type StateServiceStatus = "idle" | "starting" | "running" | "stopping" | "stopped";

/** A running (or startable) state service. */
export interface StateService {
  /** Binds the gRPC server and connects to Redis (an unreachable Redis does not fail start). */
  start(): Promise<{ port: number }>;
  /** Stops accepting calls, lets calls in flight finish (up to the grace period), closes Redis. */
  stop(): Promise<void>;
  /** `host:port` the service listens on (the bound port once started). */
  readonly address: string;
  /** Lifecycle status. */
  readonly status: StateServiceStatus;
}

/** The grpc-js definition of StateService, with Commit's request left as raw bytes. */
function serviceDefinition(): grpc.ServiceDefinition {
  const definition = createServiceDefinition(StateServiceDesc);
  const commit = definition.commit as grpc.MethodDefinition<unknown, unknown>;
  return { ...definition, commit: { ...commit, requestDeserialize: (bytes: Buffer) => bytes } };
}

/** HTTP/2 flow-control window the server advertises, in bytes. */
const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

/**
 * Raises the HTTP/2 flow-control window the server advertises from the 64 KiB default, so a
 * commit of hundreds of KiB is not paced by WINDOW_UPDATE round trips (measured: half the call
 * latency at 100 KiB with 4 concurrent commits). grpc-js 1.14 has a client option for this
 * (`grpc-node.flow_control_window`) but no server option, so this sets the HTTP/2 settings
 * grpc-js passes to `http2.createServer`; if that internal field is absent, it does nothing.
 */
function widenFlowControlWindow(server: grpc.Server): grpc.Server {
  const internals = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> } };
  const common = internals.commonServerOptions;
  if (common !== undefined && typeof common === "object") {
    common.settings = { ...(common.settings ?? {}), initialWindowSize: FLOW_CONTROL_WINDOW };
  }
  return server;
}

/** grpc-js unary handlers of `handlers`; failures travel as MeshError statuses. */
function grpcHandlers(handlers: StateHandlers): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (request: unknown) => Promise<unknown>][]) {
    out[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      handler(call.request).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
    };
  }
  return out;
}

class StateServiceImpl implements StateService {
  readonly #options: CompiledStateServiceOptions;
  #status: StateServiceStatus = "idle";
  #address: string;
  #server: grpc.Server | undefined;
  #redis: Redis | undefined;

  constructor(options: CompiledStateServiceOptions) {
    this.#options = options;
    this.#address = options.address;
  }

  get address(): string {
    return this.#address;
  }

  get status(): StateServiceStatus {
    return this.#status;
  }

  #connectRedis(): Redis {
    const { redis: source, logger } = this.#options;
    if ("client" in source) return source.client;
    const redis = new Redis(source.url, stateRedisOptions(this.#options.redisCommandTimeoutMs));
    let healthy = true;
    redis.on("ready", () => {
      healthy = true;
      logger.info({ redis: source.url }, "redis ready");
    });
    redis.on("error", (error: Error) => {
      // Connection errors repeat on every reconnect attempt: log the first of each outage.
      if (healthy) logger.warn({ err: error, redis: source.url }, "redis connection failed; calls answer UNAVAILABLE");
      healthy = false;
    });
    redis.on("close", () => {
      if (healthy) logger.warn({ redis: source.url }, "redis connection closed; reconnecting");
      healthy = false;
    });
    return redis;
  }

  async start(): Promise<{ port: number }> {
    if (this.#status !== "idle") {
      throw new MeshError("FAILED_PRECONDITION", `the state service cannot start when ${this.#status}`);
    }
    this.#status = "starting";
    const memory = this.#options.store === "memory";
    const redis = memory ? undefined : this.#connectRedis();
    this.#redis = redis;
    const server = widenFlowControlWindow(
      new grpc.Server({
        // Room for the protobuf framing around maxCommitBytes of window state; the exact limit is
        // checked per commit so the error can name the sizes.
        "grpc.max_receive_message_length": this.#options.maxCommitBytes + 8 * 1024 * 1024,
        "grpc.max_send_message_length": -1,
      }),
    );
    const store = redis ? createRedisStateStore(redis, this.#options.keyPrefix) : createMemoryStateStore();
    const handlers = createStateHandlers(store, this.#options.maxCommitBytes, this.#options.logger);
    server.addService(serviceDefinition(), grpcHandlers(handlers));
    try {
      const port = await bindServer(server, this.#options.address);
      this.#server = server;
      this.#address = `${this.#options.address.slice(0, this.#options.address.lastIndexOf(":"))}:${port}`;
      this.#status = "running";
      this.#options.logger.info({ address: this.#address }, "state service listening");
      return { port };
    } catch (error) {
      this.#status = "stopped";
      server.forceShutdown();
      await this.#closeRedis();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.#status === "stopped" || this.#status === "stopping") return;
    if (this.#status === "idle") {
      this.#status = "stopped";
      return;
    }
    this.#status = "stopping";
    if (this.#server) await shutdownServer(this.#server, this.#options.stopGraceMs);
    this.#server = undefined;
    await this.#closeRedis();
    this.#status = "stopped";
    this.#options.logger.info({ address: this.#address }, "state service stopped");
  }

  async #closeRedis(): Promise<void> {
    const redis = this.#redis;
    this.#redis = undefined;
    if (!redis || "client" in this.#options.redis) return;
    if (redis.status === "ready") {
      try {
        await redis.quit();
        return;
      } catch (error) {
        this.#options.logger.debug({ err: error }, "redis quit failed; disconnecting");
      }
    }
    redis.disconnect();
  }
}

/** A state service (not started): gRPC StateService over Redis. */
export function createStateService(options: StateServiceOptions = {}): StateService {
  return new StateServiceImpl(compileStateServiceOptions(options));
}
