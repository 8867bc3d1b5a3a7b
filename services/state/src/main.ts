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
import { createLogger, type LogLevel, MeshError, startTelemetry } from "@espmesh/telemetry";
import { createStateService } from "./state-service.js";

function integer(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new MeshError("INVALID_ARGUMENT", `${name} must be an integer, got ${value}`, { details: { field: name } });
  }
  return parsed;
}

async function main(): Promise<void> {
  const logger = createLogger({ component: "state", level: (process.env.ESPMESH_LOG_LEVEL as LogLevel) ?? "info" });
  const maxCommitBytes = integer("ESPMESH_STATE_MAX_COMMIT_BYTES");
  const metricsPort = integer("ESPMESH_METRICS_PORT");
  const telemetry = await startTelemetry({ serviceName: "espmesh-state", prometheusPort: metricsPort ?? 0, logger });
  const service = createStateService({
    address: process.env.ESPMESH_STATE_ADDRESS || "0.0.0.0:7400",
    redisUrl: process.env.ESPMESH_REDIS_URL || "redis://127.0.0.1:6379",
    ...(maxCommitBytes === undefined ? {} : { maxCommitBytes }),
    ...(process.env.ESPMESH_STATE_KEY_PREFIX ? { keyPrefix: process.env.ESPMESH_STATE_KEY_PREFIX } : {}),
    logger,
  });
  await service.start();
  const shutdown = (signal: string) => {
    logger.info({ signal }, "stopping");
    service
      .stop()
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "stop failed");
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`espmesh state service failed to start: ${MeshError.from(error).message}\n`);
  process.exit(1);
});
