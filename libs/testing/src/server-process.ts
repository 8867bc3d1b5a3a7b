import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { MeshError } from "@espmesh/telemetry";

/*
 * Child servers must not outlive the test process. Three layers: stop() (SIGTERM, then SIGKILL);
 * an exit/signal hook that SIGKILLs what is still running and removes the temp dirs; and a tiny
 * detached shell watchdog per server that does the same when the test process was killed outright.
 */

const running = new Set<ChildProcess>();
const directories = new Set<string>();
let hooked = false;

function cleanupSync(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  running.clear();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupSync();
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(name, onSignal);
  // Keep the default behaviour (terminate) unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", cleanupSync);
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(name, onSignal);
}

/** Registers a temp dir to be removed when the test process exits; {@link removeDirectory} removes it now. */
export function trackDirectory(directory: string): void {
  installHooks();
  directories.add(directory);
}

/** Removes a tracked temp dir now. */
export async function removeDirectory(directory: string): Promise<void> {
  directories.delete(directory);
  await rm(directory, { recursive: true, force: true });
}

const watchdogScript = `
while kill -0 "$1" 2>/dev/null; do
  kill -0 "$2" 2>/dev/null || exit 0
  sleep 1
done
kill -KILL "$2" 2>/dev/null
rm -rf "$3"
`;

/** Keeps at most this many characters of a server's output, for error messages. */
const outputLimit = 4000;

/** A spawned server process with its recent output. */
export class ServerProcess {
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<void>;
  private recent = "";

  private constructor(
    readonly name: string,
    command: string,
    args: string[],
    cwd: string,
  ) {
    installHooks();
    this.child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    running.add(this.child);
    const keep = (chunk: Buffer) => {
      this.recent = (this.recent + chunk.toString("utf8")).slice(-outputLimit);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("close", () => {
        running.delete(this.child);
        resolve();
      });
      this.child.once("error", (error) => {
        this.recent += `\n${error.message}`;
        running.delete(this.child);
        resolve();
      });
    });
  }

  /** Spawns `command args` in `cwd`, with a watchdog that cleans `directory` if this process dies. */
  static spawn(name: string, command: string, args: string[], directory: string): ServerProcess {
    const server = new ServerProcess(name, command, args, directory);
    if (server.child.pid !== undefined) {
      const watchdog = spawn(
        "/bin/sh",
        ["-c", watchdogScript, "espmesh-watchdog", String(process.pid), String(server.child.pid), directory],
        { stdio: "ignore", detached: true },
      );
      watchdog.on("error", (error) => {
        server.recent += `\nwatchdog failed to start: ${error.message}`;
      });
      watchdog.unref();
    }
    return server;
  }

  /** True while the process has not exited. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && running.has(this.child);
  }

  /** The last few thousand characters the process wrote. */
  get output(): string {
    return this.recent;
  }

  /**
   * Waits until `probe` returns true; rejects with UNAVAILABLE (with the server's output) when the
   * process exits first or `timeoutMs` passes, and kills the process in that case.
   */
  async waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.alive && performance.now() < deadline) {
      if (await probe()) return;
      await sleep(25);
    }
    const why = this.alive ? `not ready after ${timeoutMs} ms` : `exited (${this.exitDescription()})`;
    await this.stop(1000);
    throw new MeshError("UNAVAILABLE", `${this.name} ${why}; its output:\n${this.recent.trim()}`, {
      details: { server: this.name },
    });
  }

  /** Sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.alive) {
      this.child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const first = await Promise.race([this.exited.then(() => "exited" as const), timedOut]);
      clearTimeout(timer);
      if (first === "timeout") this.child.kill("SIGKILL");
    }
    await this.exited;
  }

  private exitDescription(): string {
    if (this.child.signalCode !== null) return `signal ${this.child.signalCode}`;
    return `code ${String(this.child.exitCode)}`;
  }
}
