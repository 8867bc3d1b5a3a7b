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
import {
  createLogger,
  envInteger,
  envText,
  type LogLevel,
  runService,
  startTelemetry,
  stopOnSignals,
} from "@espmesh/telemetry";
import { createGateway } from "./gateway.js";

const logger = createLogger({ component: "gateway", level: (process.env.ESPMESH_LOG_LEVEL as LogLevel) ?? "info" });

async function main(): Promise<void> {
  const port = envInteger("ESPMESH_GATEWAY_PORT");
  const bodyLimit = envInteger("ESPMESH_BODY_LIMIT");
  const token = envText("ESPMESH_API_TOKEN");
  const host = envText("ESPMESH_GATEWAY_HOST");
  const balancerAddress = envText("ESPMESH_BALANCER_ADDRESS");
  const telemetry = await startTelemetry({ serviceName: "espmesh-gateway", logger });
  const gateway = createGateway({
    address: envText("ESPMESH_ADDRESS") ?? "127.0.0.1:7400",
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
  stopOnSignals(logger, async () => {
    await gateway.stop();
    await telemetry.shutdown();
  });
}

runService("gateway", logger, main);
