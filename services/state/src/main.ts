/**
 * The state service as a process. Environment (read here only):
 * - `ESPMESH_STATE_ADDRESS`: `host:port` to listen on (default `0.0.0.0:7400`);
 * - `ESPMESH_REDIS_URL`: Redis to store state in (default `redis://127.0.0.1:6379`);
 * - `ESPMESH_STATE_MAX_COMMIT_BYTES`: size limit of one commit's window state (default 64 MiB);
 * - `ESPMESH_STATE_KEY_PREFIX`: prefix of every Redis key (default `espmesh:state:`);
 * - `ESPMESH_METRICS_PORT`: port of the Prometheus `/metrics` endpoint (default none);
 * - `ESPMESH_LOG_LEVEL`: pino level (default `info`).
 * Stops gracefully on SIGTERM and SIGINT.
 */
import {
  createLogger,
  envInteger,
  envText,
  type LogLevel,
  runService,
  startTelemetry,
  stopOnSignals,
} from "@espmesh/telemetry";
import { createStateService } from "./state-service.js";

const logger = createLogger({ component: "state", level: (process.env.ESPMESH_LOG_LEVEL as LogLevel) ?? "info" });

async function main(): Promise<void> {
  const maxCommitBytes = envInteger("ESPMESH_STATE_MAX_COMMIT_BYTES");
  const metricsPort = envInteger("ESPMESH_METRICS_PORT");
  const telemetry = await startTelemetry({ serviceName: "espmesh-state", prometheusPort: metricsPort ?? 0, logger });
  const service = createStateService({
    address: envText("ESPMESH_STATE_ADDRESS") ?? "0.0.0.0:7400",
    redisUrl: envText("ESPMESH_REDIS_URL") ?? "redis://127.0.0.1:6379",
    ...(maxCommitBytes === undefined ? {} : { maxCommitBytes }),
    ...(process.env.ESPMESH_STATE_KEY_PREFIX ? { keyPrefix: process.env.ESPMESH_STATE_KEY_PREFIX } : {}),
    logger,
  });
  await service.start();
  stopOnSignals(logger, async () => {
    await service.stop();
    await telemetry.shutdown();
  });
}

runService("state service", logger, main);
