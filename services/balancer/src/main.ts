/**
 * The balancer process. Configuration comes from the environment (read only here):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | ESPMESH_DEPLOYMENT_JSON | the deployment: `{"project","deployment"?,"shardCount"?,"sources":[{"name","schema","routing"?,"input"?}]}`, schemas as schema strings, `input` = `{"stream","subject"?,"durable"}` | required |
 * | ESPMESH_BALANCER_ADDRESS | `host:port` to serve on | `0.0.0.0:7300` |
 * | ESPMESH_BALANCER_ID | this balancer's id | `balancer-<pid>` |
 * | ESPMESH_WORKERS | a fixed member list `id=host:port,...` (static registry) | - |
 * | ESPMESH_REGISTRY_ADDRESS | a local RegistryService to watch | - |
 * | ESPMESH_K8S_SERVICE | the workers' Service (Kubernetes EndpointSlices) | - |
 * | ESPMESH_K8S_NAMESPACE | its namespace | `default` |
 * | ESPMESH_MAX_INFLIGHT_EVENTS | in-flight bound per worker, events | `1000000` |
 * | ESPMESH_MAX_INFLIGHT_BYTES | in-flight bound per worker, bytes | `67108864` |
 * | ESPMESH_NATS_URL | NATS server(s) the sources' input bindings read from (`input` in a source) | required with input bindings |
 * | ESPMESH_METRICS_PORT | Prometheus `/metrics` port (with `espmesh_bus_consumer_lag` per input binding) | none |
 * | ESPMESH_LOG_LEVEL | pino level | `info` |
 *
 * Exactly one of ESPMESH_WORKERS, ESPMESH_REGISTRY_ADDRESS and ESPMESH_K8S_SERVICE names the
 * membership. On SIGTERM or SIGINT it drains (every read origin committed and acked) and exits 0.
 */
import { createRegistry, type Registry, type StaticMember } from "@espmesh/registry";
import {
  createLogger,
  envInteger,
  type LogLevel,
  MeshError,
  runService,
  startTelemetry,
  stopOnSignals,
} from "@espmesh/telemetry";
import { createBalancer } from "./balancer.js";
import type { BalancerDeployment } from "./options.js";

const env = process.env;
const logger = createLogger({
  component: "balancer",
  level: (env.ESPMESH_LOG_LEVEL as LogLevel | undefined) ?? "info",
});

function deploymentOf(json: string | undefined): BalancerDeployment {
  if (!json) throw new MeshError("INVALID_ARGUMENT", "environment variable ESPMESH_DEPLOYMENT_JSON is required");
  try {
    return JSON.parse(json) as BalancerDeployment;
  } catch (error) {
    throw new MeshError("INVALID_ARGUMENT", `ESPMESH_DEPLOYMENT_JSON is not JSON: ${(error as Error).message}`);
  }
}

function staticMembers(list: string): StaticMember[] {
  return list
    .split(",")
    .filter((entry) => entry.trim() !== "")
    .map((entry) => {
      const at = entry.indexOf("=");
      if (at <= 0) throw new MeshError("INVALID_ARGUMENT", `ESPMESH_WORKERS entry "${entry}" is not id=host:port`);
      return { id: entry.slice(0, at).trim(), address: entry.slice(at + 1).trim() };
    });
}

function registryOf(deployment: string): Registry {
  const chosen = [env.ESPMESH_WORKERS, env.ESPMESH_REGISTRY_ADDRESS, env.ESPMESH_K8S_SERVICE].filter(Boolean);
  if (chosen.length !== 1) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      "set exactly one of ESPMESH_WORKERS, ESPMESH_REGISTRY_ADDRESS and ESPMESH_K8S_SERVICE",
    );
  }
  if (env.ESPMESH_WORKERS) return createRegistry({ kind: "static", members: staticMembers(env.ESPMESH_WORKERS) });
  if (env.ESPMESH_REGISTRY_ADDRESS) {
    return createRegistry({ kind: "local", address: env.ESPMESH_REGISTRY_ADDRESS, deployment, logger });
  }
  return createRegistry({
    kind: "kubernetes",
    service: env.ESPMESH_K8S_SERVICE as string,
    namespace: env.ESPMESH_K8S_NAMESPACE || "default",
    logger,
  });
}

async function main(): Promise<void> {
  const deployment = deploymentOf(env.ESPMESH_DEPLOYMENT_JSON);
  const registry = registryOf(deployment.deployment ?? deployment.project);
  const balancerId = env.ESPMESH_BALANCER_ID || `balancer-${process.pid}`;
  const maxInFlightEvents = envInteger("ESPMESH_MAX_INFLIGHT_EVENTS");
  const maxInFlightBytes = envInteger("ESPMESH_MAX_INFLIGHT_BYTES");
  const telemetry = await startTelemetry({
    serviceName: "espmesh-balancer",
    serviceInstanceId: balancerId,
    prometheusPort: envInteger("ESPMESH_METRICS_PORT") ?? 0,
    logger,
  });
  const balancer = createBalancer({
    deployment,
    membership: registry,
    listen: env.ESPMESH_BALANCER_ADDRESS || "0.0.0.0:7300",
    balancerId,
    ...(maxInFlightEvents === undefined ? {} : { maxInFlightEvents }),
    ...(maxInFlightBytes === undefined ? {} : { maxInFlightBytes }),
    ...(env.ESPMESH_NATS_URL ? { natsUrl: env.ESPMESH_NATS_URL } : {}),
    logger,
  });
  await balancer.start();
  // The parent (local driver, tests) reads this line to learn the address.
  logger.info({ event: "listening", address: balancer.address, pid: process.pid }, "balancer ready");

  stopOnSignals(logger, async () => {
    // Drains: every origin read is committed and acked before the streams close.
    await balancer.stop();
    await registry.close();
    await telemetry.shutdown();
  });
}

runService("balancer", logger, main);
