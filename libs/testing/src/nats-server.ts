import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ManagedServer } from "./managed-server.js";

/** A throwaway nats-server with JetStream on 127.0.0.1. */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory; kept across stop()/start(), removed when the test process exits. */
  readonly storeDir: string;
  /** Stops the server (SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store dir, so streams and their messages survive. */
  start(): Promise<void>;
}

/** Options of {@link startNats}. */
export interface NatsServerOptions {
  /** @default a free loopback port */
  port?: number;
  /** Binary name or path. @default "nats-server" */
  binary?: string;
  /** How long to wait until JetStream answers. @default 10000 */
  startTimeoutMs?: number;
}

/** Connects to the nats-server on `port`, checks its name is `name` and that JetStream answers. */
async function jetStreamReady(port: number, _pid: number, name: string): Promise<boolean> {
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    connection = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 1000 });
    if (connection.info?.server_name !== name) return false;
    const manager = await jetstreamManager(connection, { timeout: 1000 });
    await manager.getAccountInfo();
    return true;
  } catch {
    // Not listening yet, or JetStream still recovering its store: the caller probes again.
    return false;
  } finally {
    await connection?.close();
  }
}

/**
 * Starts `nats-server -js -a 127.0.0.1 -p P -sd <tmp>` and resolves once a client can connect and
 * JetStream answers. Rejects with FAILED_PRECONDITION when the binary is missing (naming it and the
 * apt-get command) and with UNAVAILABLE (with its output) when it fails to start.
 */
export async function startNats(options: NatsServerOptions = {}): Promise<NatsServer> {
  const server = new ManagedServer({
    name: "nats-server",
    binary: options.binary ?? "nats-server",
    port: options.port,
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
    keepDirectory: true,
    args: (port, directory, name) => [
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-sd",
      directory,
      "--server_name",
      name,
    ],
    probe: jetStreamReady,
  });
  await server.start();
  const port = server.port;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: server.directory,
    stop: () => server.stop(),
    start: () => server.start(),
  };
}
