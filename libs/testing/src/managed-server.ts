import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeshError } from "@espmesh/telemetry";
import { findBinary } from "./binaries.js";
import { freePort } from "./free-port.js";
import { removeDirectory, ServerProcess, trackDirectory } from "./server-process.js";

/** What differs between the throwaway servers. */
export interface ServerSpec {
  /** Binary name for messages and lookup, e.g. `"redis-server"`. */
  name: string;
  /** Binary name or path. */
  binary: string;
  /** Command-line arguments for a port, a data directory and a name unique to this server. */
  args(port: number, directory: string, name: string): string[];
  /**
   * Resolves true once the server on `port` answers and is the one launched (process id `pid`,
   * name `name`), not another server that holds the port. Never rejects.
   */
  probe(port: number, pid: number, name: string): Promise<boolean>;
  /** Keep the data directory across stop()/start() (removed at process exit); else a fresh one each start. */
  keepDirectory: boolean;
  /** Explicit port, or undefined for a free one. */
  port: number | undefined;
  startTimeoutMs: number;
}

const portAttempts = 5;

/** A throwaway server in a temp dir: start on a (free) loopback port, stop, start again on the same port. */
export class ManagedServer {
  private process: ServerProcess | undefined;
  private chosenPort: number | undefined;
  private dir: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly command: string;
  /** Unique to this server, kept across restarts (nats-server's JetStream store is tied to it). */
  private readonly name = `espmesh-${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(private readonly spec: ServerSpec) {
    this.command = findBinary(spec.binary);
    this.chosenPort = spec.port;
  }

  /** The port, fixed by the first start. */
  get port(): number {
    if (this.chosenPort === undefined) throw new MeshError("FAILED_PRECONDITION", `${this.spec.name} never started`);
    return this.chosenPort;
  }

  /** The data directory (created by the first start). */
  get directory(): string {
    if (this.dir === undefined) throw new MeshError("FAILED_PRECONDITION", `${this.spec.name} never started`);
    return this.dir;
  }

  /** Starts the server unless it runs; resolves once it answers. */
  start(): Promise<void> {
    return this.serialize(() => this.startNow());
  }

  /** Stops the server (SIGTERM, then SIGKILL) unless it is stopped. */
  stop(): Promise<void> {
    return this.serialize(() => this.stopNow());
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step);
    // The caller gets `run`'s failure; the queue only needs to move on to the next step.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async startNow(): Promise<void> {
    if (this.process?.alive) return;
    if (this.chosenPort !== undefined) {
      await this.launch(this.chosenPort);
      return;
    }
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      try {
        await this.launch(port);
        this.chosenPort = port;
        return;
      } catch (error) {
        const taken = error instanceof MeshError && /address already in use/i.test(error.message);
        if (!taken || attempt >= portAttempts) throw error;
      }
    }
  }

  private async launch(port: number): Promise<void> {
    if (this.dir === undefined || !this.spec.keepDirectory) {
      this.dir = await mkdtemp(join(tmpdir(), `espmesh-${this.spec.name}-`));
      trackDirectory(this.dir);
    }
    const directory = this.dir;
    const name = this.name;
    const args = this.spec.args(port, directory, name);
    const server = ServerProcess.spawn(this.spec.name, this.command, args, directory);
    this.process = server;
    const pid = server.child.pid ?? -1;
    try {
      await server.waitUntilReady(() => this.spec.probe(port, pid, name), this.spec.startTimeoutMs);
    } catch (error) {
      if (!this.spec.keepDirectory) await this.dropDirectory();
      throw error;
    }
  }

  private async stopNow(): Promise<void> {
    await this.process?.stop();
    this.process = undefined;
    if (!this.spec.keepDirectory) await this.dropDirectory();
  }

  private async dropDirectory(): Promise<void> {
    if (this.dir === undefined) return;
    const directory = this.dir;
    this.dir = undefined;
    await removeDirectory(directory);
  }
}
