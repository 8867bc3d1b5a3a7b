/**
 * The gateway as a process. Environment (read here only):
 * - `ESPMESH_ADDRESS`: `host:port` of the mesh's control plane (default `127.0.0.1:7400`);
 * - `ESPMESH_BALANCER_ADDRESS`: `host:port` of the balancer (default: named per project by the control plane);
 * - `ESPMESH_GATEWAY_HOST`: address to listen on (default `0.0.0.0`);
 * - `ESPMESH_GATEWAY_PORT`: port to listen on (default 8080);
 * - `ESPMESH_API_TOKEN`: bearer token required on every request but probes, metrics and docs;
 *   also sent to the mesh (default none: open);
 * - `ESPMESH_BODY_LIMIT`: largest request body in bytes (default 16 MiB);
 * - `ESPMESH_LOG_LEVEL`: pino level (default `info`).
 * Serves its Prometheus metrics at `/metrics`. Stops gracefully on SIGTERM and SIGINT.
 */
import { createLogger, type LogLevel, MeshError, startTelemetry } from "@espmesh/telemetry";
import { createGateway } from "./gateway.js";

function integer(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new MeshError("INVALID_ARGUMENT", `${name} must be an integer, got ${value}`, { details: { field: name } });
  }
  return parsed;
}

function text(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

async function main(): Promise<void> {
  const logger = createLogger({ component: "gateway", level: (process.env.ESPMESH_LOG_LEVEL as LogLevel) ?? "info" });
  const port = integer("ESPMESH_GATEWAY_PORT");
  const bodyLimit = integer("ESPMESH_BODY_LIMIT");
  const token = text("ESPMESH_API_TOKEN");
  const host = text("ESPMESH_GATEWAY_HOST");
  const balancerAddress = text("ESPMESH_BALANCER_ADDRESS");
  const telemetry = await startTelemetry({ serviceName: "espmesh-gateway", logger });
  const gateway = createGateway({
    address: text("ESPMESH_ADDRESS") ?? "127.0.0.1:7400",
    ...(balancerAddress === undefined ? {} : { balancerAddress }),
    ...(token === undefined ? {} : { token, meshToken: token }),
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(bodyLimit === undefined ? {} : { bodyLimit }),
    logger,
  });
  try {
    await gateway.start();
  } catch (error) {
    await telemetry.shutdown();
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "stopping");
    gateway
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
  process.stderr.write(`espmesh gateway failed to start: ${MeshError.from(error).message}\n`);
  process.exit(1);
});
