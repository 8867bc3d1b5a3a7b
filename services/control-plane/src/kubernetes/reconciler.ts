import { type Logger, MeshError } from "@espmesh/telemetry";
import { compileDeploymentSettings } from "../deployment-settings.js";
import type { DeploymentSpec } from "../driver.js";
import type { ProjectLoader } from "../project-shape.js";
import { type ChildApi, isStatus, type LiveObject } from "./child-apis.js";
import { type EspProject, type EspProjectCondition, type EspProjectStatus, settingsOfSpec } from "./esp-project.js";
import {
  BALANCER_PORT,
  boundWindows,
  type ChildObject,
  childNames,
  desiredChildren,
  type ManifestOptions,
  natsUrlOf,
  SPEC_HASH_ANNOTATION,
} from "./manifests.js";

/** What reconciling one EspProject did. */
export interface ReconcileResult {
  readonly status: EspProjectStatus;
  readonly created: readonly string[];
  readonly updated: readonly string[];
}

/** Options of a {@link Reconciler}. */
export interface ReconcilerOptions extends ManifestOptions {
  apis: Record<ChildObject["kind"], ChildApi>;
  loadProject: ProjectLoader;
  logger: Logger;
  /** The clock, for condition times. @default () => new Date() */
  now?: () => Date;
}

function condition(
  type: EspProjectCondition["type"],
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): EspProjectCondition {
  return {
    type,
    status: ok ? "True" : "False",
    reason,
    message,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastTransitionTime: now.toISOString(),
  };
}

/** The status of an EspProject that is not deployed: Valid and Ready False, for `reason`. */
function notDeployed(resource: EspProject, reason: string, message: string, now: Date): ReconcileResult {
  const generation = resource.metadata.generation;
  return {
    status: {
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      conditions: mergeConditions(resource.status?.conditions, [
        condition("Valid", false, reason, message, generation, now),
        condition("Ready", false, reason, "not deployed until the Valid condition is True", generation, now),
      ]),
    },
    created: [],
    updated: [],
  };
}

/** Keeps an earlier condition's transition time when its status did not change. */
export function mergeConditions(
  previous: readonly EspProjectCondition[] | undefined,
  next: readonly EspProjectCondition[],
): EspProjectCondition[] {
  return next.map((entry) => {
    const before = previous?.find((candidate) => candidate.type === entry.type);
    return before !== undefined && before.status === entry.status
      ? { ...entry, lastTransitionTime: before.lastTransitionTime }
      : entry;
  });
}

/**
 * Turns one EspProject into its children (see manifests.ts): loads and validates the project and
 * settings, then creates what is missing and replaces what differs from the desired body (by the
 * spec-hash annotation). The worker Deployment keeps its live replica count, which its HPA owns.
 */
export class Reconciler {
  readonly #options: ReconcilerOptions;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
  }

  /** Brings the children of `resource` in line and says what the status should be. */
  async reconcile(resource: EspProject): Promise<ReconcileResult> {
    const now = this.#options.now?.() ?? new Date();
    const generation = resource.metadata.generation;
    const namespace = resource.metadata.namespace ?? "default";
    let deployment: DeploymentSpec;
    try {
      const loaded = await this.#options.loadProject(resource.spec.project ?? "", resource.metadata.name);
      const settings = compileDeploymentSettings(settingsOfSpec(resource.spec), loaded.model);
      deployment = {
        name: resource.metadata.name,
        project: resource.spec.project,
        projectFormat: loaded.format,
        model: loaded.model,
        settings,
        replicas: settings.minReplicas,
      };
    } catch (error) {
      const failure = MeshError.from(error);
      const reason = failure.message.startsWith("invalid deployment settings") ? "InvalidSettings" : "InvalidProject";
      return notDeployed(resource, reason, failure.message, now);
    }
    const bound = boundWindows(deployment);
    if (bound.length > 0 && natsUrlOf(resource, deployment, this.#options) === undefined) {
      // Pods started now would exit at once (workers and balancer require ESPMESH_NATS_URL).
      const message =
        `${bound.join(", ")} bind to NATS but no NATS URL is set: set spec.natsUrl, ` +
        "or ESPMESH_NATS_URL of the operator (Helm value nats.url)";
      return notDeployed(resource, "NatsUrlMissing", message, now);
    }
    const children = desiredChildren(resource, deployment, this.#options);
    const created: string[] = [];
    const updated: string[] = [];
    for (const child of children) {
      const outcome = await this.#ensure(namespace, child);
      if (outcome === "created") created.push(`${child.kind}/${child.name}`);
      if (outcome === "updated") updated.push(`${child.kind}/${child.name}`);
    }
    const names = childNames(resource.metadata.name);
    const [worker, balancer] = await Promise.all([
      this.#options.apis.Deployment.read(namespace, names.worker),
      this.#options.apis.Deployment.read(namespace, names.balancer),
    ]);
    const workers = Number(worker?.status?.replicas ?? 0);
    const readyWorkers = Number(worker?.status?.readyReplicas ?? 0);
    const balancers = Number(balancer?.status?.replicas ?? 0);
    const readyBalancers = Number(balancer?.status?.readyReplicas ?? 0);
    const ready = readyWorkers > 0 && readyBalancers > 0;
    const changes = [...created.map((c) => `created ${c}`), ...updated.map((u) => `updated ${u}`)];
    return {
      status: {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        workers,
        readyWorkers,
        readyBalancers,
        balancerAddress: `${names.balancer}.${namespace}.svc:${BALANCER_PORT}`,
        conditions: mergeConditions(resource.status?.conditions, [
          condition("Valid", true, "Validated", "project and settings are valid", generation, now),
          condition(
            "Reconciled",
            true,
            "ObjectsInPlace",
            changes.length === 0 ? `${children.length} objects in place` : changes.join(", "),
            generation,
            now,
          ),
          condition(
            "Ready",
            ready,
            ready ? "Available" : readyWorkers === 0 ? "WorkersNotReady" : "BalancerNotReady",
            `${readyWorkers} of ${workers} workers ready, ${readyBalancers} of ${balancers} balancers ready`,
            generation,
            now,
          ),
        ]),
      },
      created,
      updated,
    };
  }

  /** Deletes every child of the EspProject `name` (Kubernetes would also collect them by owner). */
  async cleanup(namespace: string, name: string): Promise<void> {
    const names = childNames(name);
    const { apis } = this.#options;
    await apis.Service.delete(namespace, names.balancer);
    await apis.Deployment.delete(namespace, names.balancer);
    await apis.HorizontalPodAutoscaler.delete(namespace, names.worker);
    await apis.Deployment.delete(namespace, names.worker);
    await apis.Service.delete(namespace, names.worker);
    await apis.ConfigMap.delete(namespace, names.config);
  }

  async #ensure(namespace: string, child: ChildObject): Promise<"created" | "updated" | "unchanged"> {
    const api = this.#options.apis[child.kind];
    for (let attempt = 0; ; attempt++) {
      const live = await api.read(namespace, child.name);
      try {
        if (live === undefined) {
          await api.create(namespace, child.body);
          return "created";
        }
        if (
          live.metadata?.annotations?.[SPEC_HASH_ANNOTATION] === child.body.metadata.annotations[SPEC_HASH_ANNOTATION]
        ) {
          return "unchanged";
        }
        await api.replace(namespace, child.name, this.#carryOver(child, live));
        return "updated";
      } catch (error) {
        // Someone changed or created it meanwhile: read again and retry once.
        if (attempt === 0 && (isStatus(error, 409) || isStatus(error, 404))) continue;
        throw error;
      }
    }
  }

  /** The desired body with what must be kept from the live object. */
  #carryOver(child: ChildObject, live: LiveObject): object {
    const body = structuredClone(child.body) as ChildObject["body"] & { spec?: Record<string, unknown> };
    const resourceVersion = live.metadata?.resourceVersion;
    if (resourceVersion !== undefined)
      (body.metadata as { resourceVersion?: string }).resourceVersion = resourceVersion;
    const liveSpec = live.spec ?? {};
    if (child.kind === "Deployment" && child.name.endsWith("-worker") && typeof liveSpec.replicas === "number") {
      body.spec = { ...body.spec, replicas: liveSpec.replicas };
    }
    if (child.kind === "Service") {
      for (const key of ["clusterIP", "clusterIPs"])
        if (liveSpec[key] !== undefined) body.spec = { ...body.spec, [key]: liveSpec[key] };
    }
    return body;
  }
}
