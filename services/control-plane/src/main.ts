/**
 * Entry point of the control-plane process. Configuration comes from the environment, read here
 * only:
 * - `ESPMESH_CONTROL_MODE`: `local` (default: the Control API with the local driver) or
 *   `operator` (the Kubernetes EspProject operator).
 * - local: `ESPMESH_LISTEN` (default `127.0.0.1:7400`), `ESPMESH_REDIS_URL` (deployments in
 *   Redis) or `ESPMESH_STORE_FILE` (deployments in a JSON file; default
 *   `./.espmesh/deployments.json`), `ESPMESH_STATE_ADDRESS` (passed to workers), `ESPMESH_NATS_URL`
 *   (passed to the balancer and workers of deployments with bindings).
 * - operator: `ESPMESH_NAMESPACE` (default `default`), `ESPMESH_BALANCER_SERVICE_ACCOUNT`,
 *   `ESPMESH_NATS_URL` (passed to the pods of projects with bindings that set no `spec.natsUrl`).
 * - `ESPMESH_LOG_LEVEL` (default `info`).
 */
import { createLogger, type LogLevel } from "@espmesh/telemetry";
import { createControlPlane } from "./control-plane.js";
import { createOperator } from "./kubernetes/operator.js";
import { localDriver } from "./local/local-driver.js";

const env = process.env;
const logger = createLogger({ component: "control-plane", level: (env.ESPMESH_LOG_LEVEL ?? "info") as LogLevel });
const mode = env.ESPMESH_CONTROL_MODE ?? "local";

let stop: () => Promise<void>;
if (mode === "operator") {
  const operator = createOperator({
    namespace: env.ESPMESH_NAMESPACE ?? "default",
    ...(env.ESPMESH_BALANCER_SERVICE_ACCOUNT === undefined
      ? {}
      : { balancerServiceAccount: env.ESPMESH_BALANCER_SERVICE_ACCOUNT }),
    ...(env.ESPMESH_NATS_URL === undefined ? {} : { natsUrl: env.ESPMESH_NATS_URL }),
    logger,
  });
  operator.start();
  stop = () => operator.stop();
} else if (mode === "local") {
  const plane = createControlPlane({
    address: env.ESPMESH_LISTEN ?? "127.0.0.1:7400",
    store:
      env.ESPMESH_REDIS_URL !== undefined
        ? { kind: "redis", url: env.ESPMESH_REDIS_URL }
        : { kind: "file", path: env.ESPMESH_STORE_FILE ?? ".espmesh/deployments.json" },
    driver: localDriver({
      ...(env.ESPMESH_STATE_ADDRESS === undefined ? {} : { stateAddress: env.ESPMESH_STATE_ADDRESS }),
      ...(env.ESPMESH_NATS_URL === undefined ? {} : { natsUrl: env.ESPMESH_NATS_URL }),
    }),
    logger,
  });
  await plane.start();
  stop = () => plane.stop();
} else {
  logger.error({ mode }, "ESPMESH_CONTROL_MODE must be local or operator");
  process.exit(2);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "stopping failed");
        process.exit(1);
      },
    );
  });
}
