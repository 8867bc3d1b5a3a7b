import type { LogLevel } from "@espmesh/telemetry";
import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { DEFAULT_CONTROL_PORT } from "../mesh/address.js";
import { runUp } from "../up/up-command.js";
import { integerOption } from "./parse.js";

/**
 * `espmesh up [--port 8080] [--workers N] [--redis URL] [--nats URL] [--demo] [--data-dir DIR]`:
 * the whole mesh on this machine until Ctrl-C.
 */
export function registerUpCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("up")
    .description(
      "run the whole mesh on this machine (state service, control plane, gateway; balancers and workers as child processes)",
    )
    .option("-p, --port <port>", "HTTP port of the gateway (0 picks a free one)", "8080")
    .option("--host <address>", "address the gateway listens on (0.0.0.0 for every interface)", "127.0.0.1")
    .option(
      "--control-port <port>",
      "port of the control plane's gRPC server on 127.0.0.1, the SDK's address (0 picks a free one)",
      String(DEFAULT_CONTROL_PORT),
    )
    .option("-w, --workers <n>", "workers of each deployment whose settings set no minReplicas/maxReplicas", "2")
    .option(
      "--redis <url>",
      "keep window state and deployments in this Redis (default: state in memory, deployments in a file)",
    )
    .option("--nats <url>", "NATS server for cascades, passed to every worker and balancer as ESPMESH_NATS_URL")
    .option("--data-dir <dir>", "where deployments, project files and the log are kept", ".espmesh")
    .option("--body-limit <bytes>", "largest HTTP request body (default 16 MiB)")
    .option("--demo", "deploy the trades demo, stream generated trades into it and show a live table")
    .option("--demo-rate <n>", "trades per second the demo publishes", "1000")
    .addHelpText(
      "after",
      `
Environment: ESPMESH_API_TOKEN makes the gateway require "Authorization: Bearer <token>" on every
request but /healthz, /readyz, /metrics and /docs. ESPMESH_LOG_LEVEL sets the level of the log
file (default info; debug includes the output of every child process).

Deployments survive a restart (in <data-dir>/deployments.json, or in Redis with --redis); window
state kept in memory does not. Ctrl-C (or SIGTERM) stops the gateway, every balancer and worker,
and the state service; children also stop on their own if 'up' is killed.

Examples:
  espmesh up --demo                     # what 'npm start' runs
  espmesh up --port 9000 --workers 4
  espmesh up --redis redis://127.0.0.1:6379`,
    )
    .action(async (options: Record<string, unknown>) => {
      const token = process.env.ESPMESH_API_TOKEN;
      const code = await runUp(
        {
          mesh: {
            port: integerOption("port", options.port, 0, 65_535),
            host: String(options.host),
            controlPort: integerOption("control-port", options.controlPort, 0, 65_535),
            workers: integerOption("workers", options.workers, 1, 64),
            dataDir: String(options.dataDir),
            ...(typeof options.redis === "string" ? { redisUrl: options.redis } : {}),
            ...(typeof options.nats === "string" ? { natsUrl: options.nats } : {}),
            ...(token === undefined || token === "" ? {} : { token }),
            ...(options.bodyLimit === undefined
              ? {}
              : { bodyLimit: integerOption("body-limit", options.bodyLimit, 1) }),
          },
          demo: options.demo === true,
          demoRate: integerOption("demo-rate", options.demoRate, 1, 1_000_000),
          interactive: process.stdout.isTTY === true,
          logLevel: (process.env.ESPMESH_LOG_LEVEL as LogLevel | undefined) ?? "info",
        },
        io,
      );
      setExitCode(code);
    });
}
