import { mkdirSync, openSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { createClient } from "@espmesh/client";
import { createLogger, type Logger, type LogLevel, MeshError, startTelemetry } from "@espmesh/telemetry";
import type { CliIo } from "../main.js";
import { runDemo } from "./demo.js";
import { createEmbeddedMesh, type MeshEndpoints } from "./embedded-mesh.js";
import type { EmbeddedMeshOptions } from "./mesh-options.js";

/** What `espmesh up` was asked for. */
export interface UpOptions {
  readonly mesh: Omit<EmbeddedMeshOptions, "logger" | "dataDir"> & { dataDir: string };
  /** Deploy the trades demo and show its live table. */
  readonly demo: boolean;
  /** Trades per second the demo publishes. */
  readonly demoRate: number;
  /** Redraw the demo table in place. */
  readonly interactive: boolean;
  /** Level of the log file. */
  readonly logLevel: LogLevel;
  /** Resolves when the mesh should stop (a signal); the default waits for SIGINT, SIGTERM or SIGHUP. */
  readonly stopRequested?: Promise<string>;
}

/** Force-exits after a stop that left something holding the event loop (a stuck connection). */
const EXIT_GRACE_MS = 3000;

function describe(endpoints: MeshEndpoints, log: string, token: boolean): string {
  const state =
    endpoints.stateStore === "memory" ? `in memory, served at ${endpoints.stateAddress}` : endpoints.stateStore;
  return [
    "espmesh: the mesh is running",
    `  gateway      ${endpoints.gatewayUrl}  (REST, SSE, WebSocket; OpenAPI at ${endpoints.gatewayUrl}/docs${token ? "; bearer token required" : ""})`,
    `  control      ${endpoints.controlAddress}  (gRPC: the SDK's address; export ESPMESH_ADDRESS=${endpoints.controlAddress})`,
    `  state        ${state}`,
    `  deployments  ${endpoints.deploymentStore}`,
    `  log          ${log}`,
    "Ctrl-C stops the mesh and every process it started.",
    "",
  ].join("\n");
}

/** Resolves with the name of the first of SIGINT, SIGTERM and SIGHUP; a second one exits at once. */
function firstSignal(io: CliIo): Promise<string> {
  return new Promise((resolveSignal) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        io.err(`espmesh: ${signal} again; exiting now (the children stop on their own)\n`);
        process.exit(130);
      }
      received = true;
      resolveSignal(signal);
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  });
}

/**
 * A logger appending to `<dataDir>/up.log` with synchronous writes, so nothing is lost when the
 * process exits, and lines logged during the last steps of a stop still land.
 */
function fileLogger(dataDir: string, level: LogLevel): { logger: Logger; path: string } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "up.log");
  const fd = openSync(path, "a");
  const destination = { write: (line: string) => void writeSync(fd, line) };
  return { logger: createLogger({ component: "espmesh-up", level, destination }), path };
}

/**
 * `espmesh up`: runs the mesh on this machine until a signal, optionally with the demo; prints
 * where everything listens. Returns the exit code.
 */
export async function runUp(options: UpOptions, io: CliIo): Promise<number> {
  const dataDir = resolve(options.mesh.dataDir);
  const log = fileLogger(dataDir, options.logLevel);
  const stopRequested = options.stopRequested ?? firstSignal(io);
  const telemetry = await startTelemetry({ serviceName: "espmesh-up", logger: log.logger });
  const mesh = createEmbeddedMesh({ ...options.mesh, dataDir, logger: log.logger });
  let code = 0;
  try {
    io.err("espmesh: starting the mesh...\n");
    const endpoints = await mesh.start();
    io.out(describe(endpoints, log.path, options.mesh.token !== undefined));
    const demoStop = new AbortController();
    const client = createClient({ address: endpoints.controlAddress, logger: log.logger });
    let demo: Promise<void> = Promise.resolve();
    if (options.demo) {
      io.err("espmesh: deploying the trades demo and waiting for its workers...\n");
      demo = runDemo({
        client,
        write: io.out,
        interactive: options.interactive,
        rate: options.demoRate,
        signal: demoStop.signal,
        logger: log.logger,
      }).catch((error: unknown) => {
        const failure = MeshError.from(error);
        log.logger.error({ err: failure }, "the demo failed");
        io.err(`espmesh: the demo stopped: ${failure.message}\n(the mesh keeps running; Ctrl-C stops it)\n`);
      });
    }
    const signal = await stopRequested;
    io.err(`\nespmesh: ${signal}: stopping the mesh...\n`);
    // The demo's publisher first (its last trades acknowledged while the workers still run).
    demoStop.abort();
    await demo;
    client.close();
    await mesh.stop();
    io.err("espmesh: stopped\n");
  } catch (error) {
    await mesh.stop().catch((stopError: unknown) => {
      log.logger.error({ err: MeshError.from(stopError) }, "stopping after a failed start failed");
    });
    code = 1;
    io.err(`espmesh: ${MeshError.from(error).message}\n`);
  } finally {
    await telemetry.shutdown();
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  }
  return code;
}
