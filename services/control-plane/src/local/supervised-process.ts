import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Backoff, type BackoffOptions } from "@espmesh/registry";
import { type Logger, noopLogger } from "@espmesh/telemetry";

/** A program to run: executable, arguments. */
export interface ProcessCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** Options of a {@link SupervisedProcess}. */
export interface SupervisedProcessOptions {
  /** Name in logs. */
  name: string;
  command: ProcessCommand;
  /** Added to this process's environment. */
  env: Readonly<Record<string, string>>;
  /** Delay before each restart after a crash. @default { initialMs: 200, maxMs: 5000 } */
  restartBackoff?: BackoffOptions;
  /** A run this long counts as healthy and resets the backoff. @default 10000 */
  stableAfterMs?: number;
  /** How long `stop` waits after SIGTERM before SIGKILL. @default 10000 */
  stopGraceMs?: number;
  /** Output lines kept for crash reports. @default 20 */
  keepLines?: number;
  /** Let the child write to this process's stdout/stderr instead of logging its lines. @default false */
  inheritOutput?: boolean;
  /** @default no-op */
  logger?: Logger;
}

/** How a run ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly atMs: number;
}

/**
 * One child process kept running: started once, restarted with backoff whenever it exits
 * without being asked to, stopped with SIGTERM then SIGKILL after a grace period.
 */
export class SupervisedProcess {
  readonly #options: SupervisedProcessOptions;
  readonly #logger: Logger;
  readonly #backoff: Backoff;
  readonly #lines: string[] = [];
  #child: ChildProcess | undefined;
  #startedAtMs = 0;
  #restarts = 0;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastExit: ProcessExit | undefined;

  constructor(options: SupervisedProcessOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? noopLogger).child({ process: options.name });
    this.#backoff = new Backoff({ initialMs: 200, maxMs: 5000, ...options.restartBackoff });
  }

  /** The running child's pid. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Restarts after crashes so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The last exit, if any. */
  get lastExit(): ProcessExit | undefined {
    return this.#lastExit;
  }

  /** The latest output lines (stdout and stderr). */
  get recentOutput(): readonly string[] {
    return this.#lines;
  }

  /** Starts the child. */
  start(): void {
    if (this.#child !== undefined || this.#stopping) return;
    const { command, env } = this.#options;
    const child = spawn(command.command, [...command.args], {
      env: { ...process.env, ...env },
      stdio: [
        "ignore",
        this.#options.inheritOutput === true ? "inherit" : "pipe",
        this.#options.inheritOutput === true ? "inherit" : "pipe",
      ],
    });
    this.#child = child;
    this.#startedAtMs = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on("line", (line) => this.#keep(line));
    }
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      this.#ended(child, { code, signal, atMs: Date.now() });
    };
    child.on("error", (error) => {
      this.#keep(`spawn failed: ${error.message}`);
      onEnd(null, null);
    });
    child.on("exit", onEnd);
    this.#logger.info({ pid: child.pid }, "process started");
  }

  /** Stops the child (SIGTERM, then SIGKILL after the grace period) and stops restarting it. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), this.#options.stopGraceMs ?? 10_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > (this.#options.keepLines ?? 20)) this.#lines.shift();
    this.#logger.debug({ line }, "process output");
  }

  #ended(child: ChildProcess, exit: ProcessExit): void {
    if (this.#child === child) this.#child = undefined;
    this.#lastExit = exit;
    if (this.#stopping) {
      this.#logger.info({ code: exit.code, signal: exit.signal }, "process stopped");
      return;
    }
    if (exit.atMs - this.#startedAtMs >= (this.#options.stableAfterMs ?? 10_000)) this.#backoff.reset();
    const delayMs = this.#backoff.next();
    this.#logger.warn(
      { code: exit.code, signal: exit.signal, delayMs, output: this.#lines.slice(-5) },
      "process exited; restarting",
    );
    this.#restartTimer = setTimeout(() => {
      this.#restarts += 1;
      this.start();
    }, delayMs);
  }
}
