import { Redis } from "ioredis";
import { ManagedServer } from "./managed-server.js";

/** A throwaway redis-server on 127.0.0.1. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (data does not survive a stop). No-op while running. */
  start(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** @default a free loopback port */
  port?: number;
  /** Binary name or path. @default "redis-server" */
  binary?: string;
  /** How long to wait for the first PONG. @default 10000 */
  startTimeoutMs?: number;
}

/** PINGs the redis on `port` and checks that its `process_id` is `pid`. */
async function pingRedis(port: number, pid: number): Promise<boolean> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Connection errors surface through connect()/ping() below; the event only needs a listener.
  client.on("error", () => undefined);
  try {
    await client.connect();
    if ((await client.ping()) !== "PONG") return false;
    return (await client.info("server")).includes(`process_id:${pid}\r\n`);
  } catch {
    // Not accepting connections yet, or still loading: the caller probes again.
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `redis-server --port P --bind 127.0.0.1 --save "" --appendonly no --dir <tmp>` and
 * resolves once it answers PING. Rejects with FAILED_PRECONDITION when the binary is missing
 * (naming it and the apt-get command) and with UNAVAILABLE (with its output) when it fails to start.
 * Stop it in `afterAll`; it is killed anyway when the test process exits.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const server = new ManagedServer({
    name: "redis-server",
    binary: options.binary ?? "redis-server",
    port: options.port,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
    keepDirectory: false,
    args: (port, directory) => [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      directory,
      "--daemonize",
      "no",
      "--logfile",
      "",
    ],
    probe: pingRedis,
  });
  await server.start();
  const port = server.port;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => server.stop(),
    start: () => server.start(),
  };
}
