import type { DeploymentSpec } from "./driver.js";
import type { WindowShape } from "./project-shape.js";

/** A window's schema as a schema string: `id*:int64,name:string`. */
export function schemaStringOf(schema: WindowShape["schema"]): string {
  return schema.fields.map((field) => `${field.name}${field.key ? "*" : ""}:${field.type}`).join(",");
}

/** The deployment a balancer serves, as its `ESPMESH_DEPLOYMENT_JSON` (services/balancer). */
export interface BalancerDeploymentJson {
  project: string;
  deployment: string;
  shardCount: number;
  sources: {
    name: string;
    schema: string;
    routing: { policy: string; hashFields?: string[] };
    /** The source's input binding (a cascade's durable consumer). */
    input?: { stream: string; subject?: string; durable: string };
  }[];
}

/** The balancer's view of a deployment: its source windows with schemas and routing. */
export function balancerDeploymentOf(spec: DeploymentSpec): BalancerDeploymentJson {
  const byName = new Map(spec.model.windows.map((window) => [window.name, window]));
  return {
    project: spec.name,
    deployment: spec.name,
    shardCount: spec.settings.shards,
    sources: spec.model.sources.flatMap((name) => {
      const window = byName.get(name);
      const route = spec.settings.routing[name];
      if (window === undefined || route === undefined) return [];
      const input = spec.settings.bindings?.inputs[name];
      return [
        {
          name,
          schema: schemaStringOf(window.schema),
          routing:
            route.hashFields.length === 0
              ? { policy: route.policy }
              : { policy: route.policy, hashFields: [...route.hashFields] },
          ...(input === undefined ? {} : { input: { ...input } }),
        },
      ];
    }),
  };
}

/** Where a worker or balancer process finds what it needs (all optional parts). */
export interface ProcessPlacement {
  /** The stable id: worker id (pod name) or balancer id. */
  id: string;
  /** `host:port` the process serves on. */
  address: string;
  /** A local RegistryService. */
  registryAddress?: string;
  /** The state service. */
  stateAddress?: string;
  /** NATS, for deployments with bindings (ESPMESH_NATS_URL). */
  natsUrl?: string;
}

/**
 * The environment of a worker process, as services/worker/src/main.ts reads it:
 * ESPMESH_WORKER_ID, ESPMESH_PROJECT, ESPMESH_DEPLOYMENT, ESPMESH_PROJECT_FILE, ESPMESH_SETTINGS,
 * ESPMESH_WORKER_ADDRESS, ESPMESH_STATE_ADDRESS, ESPMESH_REGISTRY_ADDRESS, ESPMESH_NATS_URL (with
 * bindings) (ESPMESH_ROLE too, for a one-image entry point).
 */
export function workerEnvironment(
  spec: DeploymentSpec,
  projectFile: string,
  placement: ProcessPlacement,
): Record<string, string> {
  return {
    ESPMESH_ROLE: "worker",
    ESPMESH_WORKER_ID: placement.id,
    ESPMESH_PROJECT: spec.name,
    ESPMESH_DEPLOYMENT: spec.name,
    ESPMESH_PROJECT_FILE: projectFile,
    ESPMESH_SETTINGS: JSON.stringify(spec.settings),
    ESPMESH_WORKER_ADDRESS: placement.address,
    ...(placement.stateAddress === undefined || spec.settings.state === "none"
      ? {}
      : { ESPMESH_STATE_ADDRESS: placement.stateAddress }),
    ...(placement.registryAddress === undefined ? {} : { ESPMESH_REGISTRY_ADDRESS: placement.registryAddress }),
    ...natsEnvironment(spec, placement),
  };
}

/** ESPMESH_NATS_URL when the deployment has bindings and a NATS URL is known. */
function natsEnvironment(spec: DeploymentSpec, placement: ProcessPlacement): Record<string, string> {
  return spec.settings.bindings === undefined || placement.natsUrl === undefined
    ? {}
    : { ESPMESH_NATS_URL: placement.natsUrl };
}

/**
 * The environment of a balancer process, as services/balancer/src/main.ts reads it:
 * ESPMESH_DEPLOYMENT_JSON, ESPMESH_BALANCER_ADDRESS, ESPMESH_BALANCER_ID, the membership
 * (ESPMESH_REGISTRY_ADDRESS here; the operator sets ESPMESH_K8S_SERVICE instead) and
 * ESPMESH_NATS_URL (with bindings).
 */
export function balancerEnvironment(spec: DeploymentSpec, placement: ProcessPlacement): Record<string, string> {
  return {
    ESPMESH_ROLE: "balancer",
    ESPMESH_BALANCER_ID: placement.id,
    ESPMESH_BALANCER_ADDRESS: placement.address,
    ESPMESH_DEPLOYMENT_JSON: JSON.stringify(balancerDeploymentOf(spec)),
    ...(placement.registryAddress === undefined ? {} : { ESPMESH_REGISTRY_ADDRESS: placement.registryAddress }),
    ...natsEnvironment(spec, placement),
  };
}
