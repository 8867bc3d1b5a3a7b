/**
 * The worker process. Configuration comes from the environment (read only here):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | ESPMESH_WORKER_ID | stable id (pod name) | `worker-<pid>` |
 * | ESPMESH_PROJECT | project (and deployment) name | required |
 * | ESPMESH_DEPLOYMENT | deployment name | the project name |
 * | ESPMESH_PROJECT_FILE | path of the project (ESP XML, YAML or JSON) | required |
 * | ESPMESH_SETTINGS | deployment settings JSON (routing, state, shards, checkpointIntervalMs) | `{}` |
 * | ESPMESH_WORKER_ADDRESS | `host:port` to serve on | `127.0.0.1:0` |
 * | ESPMESH_STATE_ADDRESS | state service `host:port` | none: memory state inside this process |
 * | ESPMESH_REGISTRY_ADDRESS | local registry to register with | none |
 * | ESPMESH_NATS_URL | NATS server(s) for the settings' output bindings | required with output bindings |
 * | ESPMESH_LOG_LEVEL | pino level | `info` |
 *
 * On SIGTERM or SIGINT it drains (commits and releases every shard) and exits 0.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Bus, createBus } from "@espmesh/bus";
import { loadProject } from "@espmesh/engine";
import { registerWorker, type WorkerRegistration } from "@espmesh/registry";
import { createStateBackend } from "@espmesh/state-client";
import {
  createLogger,
  envText,
  type LogLevel,
  MeshError,
  runService,
  startTelemetry,
  stopOnSignals,
} from "@espmesh/telemetry";
import { createEngineHost } from "./engine-adapter.js";
import { createOutputBindings, type OutputBindings } from "./output-bindings.js";
import { parseWorkerSettings } from "./settings.js";
import { createWorker } from "./worker.js";

const env = process.env;
const logger = createLogger({ component: "worker", level: (env.ESPMESH_LOG_LEVEL as LogLevel | undefined) ?? "info" });

async function main(): Promise<void> {
  const project = required("ESPMESH_PROJECT");
  const deployment = env.ESPMESH_DEPLOYMENT || project;
  const id = env.ESPMESH_WORKER_ID || `worker-${process.pid}`;
  const projectFile = required("ESPMESH_PROJECT_FILE");
  const model = loadProject(readFileSync(projectFile, "utf8"), { name: project });
  const settings = parseWorkerSettings(env.ESPMESH_SETTINGS || "{}", model);
  const telemetry = await startTelemetry({ serviceName: "espmesh-worker", serviceInstanceId: id });

  const state =
    settings.state === "none"
      ? undefined
      : createStateBackend(
          env.ESPMESH_STATE_ADDRESS
            ? { kind: "service", address: env.ESPMESH_STATE_ADDRESS, project, deployment }
            : { kind: "memory", project, deployment },
        );
  const bindings = Object.keys(settings.outputBindings).length > 0;
  let bus: Bus | undefined;
  let outputs: OutputBindings | undefined;
  if (bindings) {
    if (!env.ESPMESH_NATS_URL) {
      throw new MeshError("INVALID_ARGUMENT", "the settings bind window outputs, so ESPMESH_NATS_URL is required", {
        details: { field: "ESPMESH_NATS_URL" },
      });
    }
    bus = await createBus({ servers: env.ESPMESH_NATS_URL, name: id, logger });
    outputs = createOutputBindings({
      bus,
      deployment,
      bindings: settings.outputBindings,
      instanceId: `${id}.${randomUUID()}`,
      logger,
    });
    await outputs.start();
  }
  const worker = createWorker({
    id,
    project,
    deployment,
    engine: createEngineHost(model, {
      routing: settings.hashFields,
      multicastSources: settings.multicastSources,
      shardCount: settings.shards,
      outputShards: bindings,
      logger,
    }),
    ...(state ? { state } : {}),
    ...(outputs ? { outputs } : {}),
    address: env.ESPMESH_WORKER_ADDRESS || "127.0.0.1:0",
    checkpointIntervalMs: settings.checkpointIntervalMs,
    logger,
  });
  const { address } = await worker.start();
  let registration: WorkerRegistration | undefined;
  if (env.ESPMESH_REGISTRY_ADDRESS) {
    registration = await registerWorker({ registry: env.ESPMESH_REGISTRY_ADDRESS, deployment, id, address, logger });
  }
  // The parent (local driver, tests) reads this line to learn the address.
  logger.info({ event: "listening", address, id, pid: process.pid }, "worker ready");

  stopOnSignals(logger, async () => {
    // Drains: stops taking shards, commits and releases every shard, then leaves the registry.
    await registration?.drain();
    await worker.stop();
    await registration?.deregister();
    await state?.close();
    await bus?.close();
    await telemetry.shutdown();
  });
}

function required(name: string): string {
  const value = envText(name);
  if (value === undefined) throw new MeshError("INVALID_ARGUMENT", `environment variable ${name} is required`);
  return value;
}

runService("worker", logger, main);
