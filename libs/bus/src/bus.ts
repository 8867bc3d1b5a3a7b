import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream, type StreamOptions } from "./ensure-stream.js";
import { natsError } from "./nats-errors.js";
import { pause } from "./retry.js";
import { integerOption, invalidOption } from "./validate.js";

/** Options of {@link createBus}. */
export interface BusOptions {
  /** NATS server URL(s), e.g. `"nats://127.0.0.1:4222"` or several for a cluster. */
  readonly servers: string | readonly string[];
  /** The client name the server shows in its monitoring pages. @default "espmesh" */
  readonly name?: string;
  /** Logger of the bus and its bindings (tagged `component: "bus"`). @default noopLogger */
  readonly logger?: Logger;
  /**
   * Reconnect attempts per server after the connection is lost; -1 retries forever, so a NATS
   * restart of any length loses nothing.
   * @default -1
   */
  readonly maxReconnectAttempts?: number;
  /** Pause between two reconnect attempts to the same server. @default 1000 */
  readonly reconnectTimeWaitMs?: number;
  /** How long one connection attempt may take. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Whether `createBus` keeps retrying (like a reconnect) until a server answers, instead of
   * rejecting with UNAVAILABLE when none does.
   * @default false
   */
  readonly waitOnFirstConnect?: boolean;
  /** Timeout of one JetStream API request (stream and consumer management, publish acks). @default 5000 */
  readonly requestTimeoutMs?: number;
}

/** {@link BusOptions} with every default applied. */
export interface CompiledBusOptions {
  readonly servers: string[];
  readonly name: string;
  readonly logger: Logger;
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWaitMs: number;
  readonly connectTimeoutMs: number;
  readonly waitOnFirstConnect: boolean;
  readonly requestTimeoutMs: number;
}

/** Applies the defaults of {@link BusOptions} and rejects invalid values naming the option. */
export function compileBusOptions(options: BusOptions): CompiledBusOptions {
  const servers = typeof options.servers === "string" ? [options.servers] : [...(options.servers ?? [])];
  if (servers.length === 0 || servers.some((server) => typeof server !== "string" || server.trim() === "")) {
    throw invalidOption("bus", "servers", "must name at least one NATS server URL");
  }
  const maxReconnectAttempts = integerOption("bus", "maxReconnectAttempts", options.maxReconnectAttempts, -1, -1);
  return {
    servers,
    name: options.name ?? "espmesh",
    logger: (options.logger ?? noopLogger).child({ component: "bus" }),
    maxReconnectAttempts,
    reconnectTimeWaitMs: integerOption("bus", "reconnectTimeWaitMs", options.reconnectTimeWaitMs, 1000, 0),
    connectTimeoutMs: integerOption("bus", "connectTimeoutMs", options.connectTimeoutMs, 5000, 1),
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
    requestTimeoutMs: integerOption("bus", "requestTimeoutMs", options.requestTimeoutMs, 5000, 1),
  };
}

/** A connection to NATS JetStream that bindings are made on. */
export interface Bus {
  /** The NATS connection (for status and diagnostics; close the bus, not the connection). */
  readonly connection: NatsConnection;
  /**
   * Creates the stream, or verifies an existing one: subjects it lacks are added, and its
   * duplicate window and max age are set to the ones asked for. Idempotent, and safe when several
   * processes ensure the same stream at once.
   * @throws MeshError INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when JetStream rejects
   * the stream (e.g. its subjects overlap another stream's); UNAVAILABLE when NATS does not answer.
   */
  ensureStream(options: StreamOptions): Promise<void>;
  /**
   * Stops every input binding of this bus, fails publishes that are still retrying with
   * UNAVAILABLE, flushes what was sent (acks included) and closes the connection. Idempotent.
   */
  close(): Promise<void>;
}

/** What bindings need from a bus; reached through {@link busInternals}. */
export interface BusInternals {
  readonly connection: NatsConnection;
  readonly jetstream: JetStreamClient;
  readonly manager: JetStreamManager;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  /** Aborted when the bus closes: retry loops stop on it. */
  readonly signal: AbortSignal;
  /** Runs `stop` when the bus closes (until `remove` is called). */
  onClose(stop: () => Promise<void>): { remove(): void };
}

const internals = new WeakMap<Bus, BusInternals>();

/**
 * The internals of a bus made by {@link createBus}.
 * @throws MeshError INVALID_ARGUMENT for any other object; FAILED_PRECONDITION when it is closed.
 */
export function busInternals(bus: Bus): BusInternals {
  const found = internals.get(bus);
  if (found === undefined) throw new MeshError("INVALID_ARGUMENT", "not a bus made by createBus()");
  if (found.signal.aborted) throw new MeshError("FAILED_PRECONDITION", "the bus is closed");
  return found;
}

/** How long close() waits for the connection to flush before closing it anyway. */
const FLUSH_ON_CLOSE_MS = 2000;

/**
 * Connects to NATS and returns a {@link Bus}. The connection reconnects forever by default; while
 * it is down, publishes retry and input bindings wait, so a NATS restart loses nothing.
 * @throws MeshError INVALID_ARGUMENT for bad options; UNAVAILABLE when no server answers (and
 * `waitOnFirstConnect` is off) or JetStream is not enabled on it.
 */
export async function createBus(options: BusOptions): Promise<Bus> {
  const config = compileBusOptions(options);
  const logger = config.logger;
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: config.servers,
      name: config.name,
      maxReconnectAttempts: config.maxReconnectAttempts,
      reconnectTimeWait: config.reconnectTimeWaitMs,
      timeout: config.connectTimeoutMs,
      waitOnFirstConnect: config.waitOnFirstConnect,
    });
  } catch (error) {
    const failure = natsError(`cannot connect to NATS at ${config.servers.join(", ")}`, error);
    throw new MeshError("UNAVAILABLE", failure.message, { cause: error });
  }
  let manager: JetStreamManager;
  try {
    manager = await jetstreamManager(connection, { timeout: config.requestTimeoutMs });
  } catch (error) {
    await connection.close();
    throw new MeshError("UNAVAILABLE", `JetStream is not available at ${config.servers.join(", ")}`, {
      cause: error,
    });
  }
  const js = jetstream(connection, { timeout: config.requestTimeoutMs });
  const closing = new AbortController();
  const stoppers = new Set<() => Promise<void>>();
  void watchStatus(connection, logger);
  let closed: Promise<void> | undefined;

  const bus: Bus = {
    connection,
    ensureStream: (streamOptions) => {
      if (closing.signal.aborted) return Promise.reject(new MeshError("FAILED_PRECONDITION", "the bus is closed"));
      return ensureStream(manager, streamOptions, logger);
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        await Promise.all([...stoppers].map((stop) => stop()));
        stoppers.clear();
        if (!connection.isClosed()) {
          const flushed = connection.flush().then(
            () => true,
            () => false,
          );
          const timer = new AbortController();
          await Promise.race([flushed, pause(FLUSH_ON_CLOSE_MS, timer.signal)]);
          timer.abort();
          await connection.close();
        }
        logger.debug("bus closed");
      })();
      return closed;
    },
  };
  internals.set(bus, {
    connection,
    jetstream: js,
    manager,
    logger,
    requestTimeoutMs: config.requestTimeoutMs,
    signal: closing.signal,
    onClose(stop) {
      stoppers.add(stop);
      return { remove: () => stoppers.delete(stop) };
    },
  });
  logger.info({ servers: config.servers }, "connected to NATS");
  return bus;
}

/** Logs connection changes until the connection closes. */
async function watchStatus(connection: NatsConnection, logger: Logger): Promise<void> {
  try {
    for await (const status of connection.status()) {
      switch (status.type) {
        case "disconnect":
          logger.warn({ server: status.server }, "disconnected from NATS; reconnecting");
          break;
        case "reconnect":
          logger.info({ server: status.server }, "reconnected to NATS");
          break;
        case "error":
          logger.warn({ err: status.error }, "NATS connection error");
          break;
        default:
          break;
      }
    }
  } catch (error) {
    logger.debug({ err: error }, "NATS status stream ended");
  }
}
