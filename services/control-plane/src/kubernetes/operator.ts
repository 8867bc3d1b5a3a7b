import { Backoff } from "@espmesh/registry";
import { createResilientInformer, type ResilientInformer } from "@espmesh/registry/kubernetes";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { engineProjectLoader, type ProjectLoader } from "../project-shape.js";
import { createChildApis } from "./child-apis.js";
import { createChildWatch } from "./child-watch.js";
import { ESP_PROJECT, type EspProject, type EspProjectStatus } from "./esp-project.js";
import { Reconciler } from "./reconciler.js";

/** Options of {@link createOperator}. */
export interface OperatorOptions {
  /** @default KubeConfig.loadFromDefault() (in-cluster or ~/.kube/config) */
  kubeConfig?: KubeConfig;
  /** The namespace whose EspProjects are watched and where their objects go. @default "default" */
  namespace?: string;
  /** Turns project text into a model. @default loadProject of @espmesh/engine */
  loadProject?: ProjectLoader;
  /** Service account of balancer pods (list/watch EndpointSlices). @default "espmesh-balancer" */
  balancerServiceAccount?: string;
  /**
   * NATS server(s) for projects whose settings have bindings and whose spec sets no `natsUrl`
   * (main.ts: ESPMESH_NATS_URL; Helm: `nats.url`). Without either, such a project is marked
   * Valid=False (NatsUrlMissing) and no pods are created. @default none
   */
  natsUrl?: string;
  /**
   * Every EspProject is reconciled again this often (repairs drift the watches missed). Readiness
   * does not wait for it: changes of the children Deployments' replica counts are watched.
   * @default 300000
   */
  resyncMs?: number;
  /** The EspProject and Deployment watches are restarted when silent this long. @default 120000 */
  silenceMs?: number;
  /** @default no-op */
  logger?: Logger;
}

/** The EspProject operator. */
export interface Operator {
  /** Starts watching and reconciling. */
  start(): void;
  /** Stops; objects already created stay. */
  stop(): Promise<void>;
  /** Resolves when nothing is queued or being reconciled (tests). */
  idle(): Promise<void>;
}

/**
 * The Kubernetes driver of espmesh: watches EspProjects in a namespace (through the same
 * self-healing informer as the registry) and reconciles each into its ConfigMap, worker
 * Deployment, Service and HPA, and balancer Deployment and Service, writing status conditions
 * (Valid, Reconciled, Ready). It also watches the Deployments it created, so Ready follows their
 * ready replicas and a deleted child is recreated without waiting for the resync. A deleted
 * EspProject's objects are deleted.
 */
export function createOperator(options: OperatorOptions = {}): Operator {
  const logger = (options.logger ?? noopLogger).child({ component: "operator" });
  let kubeConfig = options.kubeConfig;
  if (kubeConfig === undefined) {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
  }
  const namespace = options.namespace ?? "default";
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const reconciler = new Reconciler({
    apis: createChildApis(kubeConfig),
    loadProject: options.loadProject ?? engineProjectLoader,
    balancerServiceAccount: options.balancerServiceAccount ?? "espmesh-balancer",
    ...(options.natsUrl === undefined || options.natsUrl === "" ? {} : { natsUrl: options.natsUrl }),
    logger,
  });
  const latest = new Map<string, EspProject>();
  const done = new Map<string, string>();
  // The status last written per project (and the uid it was written to). The operator is the only
  // writer of status, so this is newer than the EspProject watch's copy, which can lag behind
  // a write: comparing with that copy could skip a write that flips a condition back.
  const written = new Map<string, { uid: string | undefined; status: EspProjectStatus }>();
  const pending = new Set<string>();
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  const retryTimers = new Set<NodeJS.Timeout>();
  let working: Promise<void> | undefined;
  let stopped = false;
  let resync: NodeJS.Timeout | undefined;

  const versionOf = (resource: EspProject) => `${resource.metadata.uid ?? ""}/${resource.metadata.generation ?? 0}`;

  const writeStatus = async (resource: EspProject, status: EspProjectStatus) => {
    if (JSON.stringify(resource.status ?? {}) === JSON.stringify(status)) return;
    await custom.patchNamespacedCustomObjectStatus(
      { ...ESP_PROJECT, namespace, name: resource.metadata.name, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  };

  const handle = async (name: string) => {
    const resource = latest.get(name);
    if (resource === undefined) {
      await reconciler.cleanup(namespace, name);
      done.delete(name);
      written.delete(name);
      logger.info({ project: name }, "EspProject deleted; its objects were removed");
      return;
    }
    const known = written.get(name);
    const current =
      known !== undefined && known.uid === resource.metadata.uid ? { ...resource, status: known.status } : resource;
    const result = await reconciler.reconcile(current);
    await writeStatus(current, result.status);
    written.set(name, { uid: resource.metadata.uid, status: result.status });
    done.set(name, versionOf(resource));
    if (result.created.length + result.updated.length > 0) {
      logger.info({ project: name, created: result.created, updated: result.updated }, "EspProject reconciled");
    }
  };

  const drain = async () => {
    while (pending.size > 0 && !stopped) {
      const name = pending.values().next().value as string;
      pending.delete(name);
      try {
        await handle(name);
        backoff.reset();
      } catch (error) {
        const delayMs = backoff.next();
        logger.error(
          { project: name, err: MeshError.from(error), delayMs },
          "reconciling an EspProject failed; retrying",
        );
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          enqueue(name);
        }, delayMs);
        retryTimers.add(timer);
      }
    }
  };

  function enqueue(name: string): void {
    if (stopped) return;
    pending.add(name);
    if (working !== undefined) return;
    working = drain().finally(() => {
      working = undefined;
      if (pending.size > 0) enqueue(pending.values().next().value as string);
    });
  }

  const informer: ResilientInformer = createResilientInformer<EspProject>({
    kubeConfig,
    path: `/apis/${ESP_PROJECT.group}/${ESP_PROJECT.version}/namespaces/${encodeURIComponent(namespace)}/${ESP_PROJECT.plural}`,
    list: () => custom.listNamespacedCustomObject({ ...ESP_PROJECT, namespace }),
    ...(options.silenceMs === undefined ? {} : { silenceMs: options.silenceMs }),
    logger,
    name: `espprojects ${namespace}`,
    onChange: (objects) => {
      const seen = new Set<string>();
      for (const resource of objects) {
        const name = resource.metadata.name;
        seen.add(name);
        latest.set(name, resource);
        if (done.get(name) !== versionOf(resource)) enqueue(name);
      }
      for (const name of [...latest.keys()]) {
        if (!seen.has(name)) {
          latest.delete(name);
          enqueue(name);
        }
      }
    },
  });

  const children = createChildWatch({
    kubeConfig,
    namespace,
    ...(options.silenceMs === undefined ? {} : { silenceMs: options.silenceMs }),
    logger,
    onProjectChanged: (name) => {
      // Only projects the EspProject watch knows: an unknown name would read as deleted.
      if (latest.has(name)) enqueue(name);
    },
  });

  return {
    start() {
      informer.start();
      children.start();
      resync = setInterval(() => {
        // Compare with the watched status again, so a status someone else changed is repaired.
        written.clear();
        for (const name of latest.keys()) enqueue(name);
      }, options.resyncMs ?? 300_000);
    },
    async stop() {
      stopped = true;
      clearInterval(resync);
      for (const timer of retryTimers) clearTimeout(timer);
      await informer.stop();
      await children.stop();
      await working;
    },
    async idle() {
      while (working !== undefined || pending.size > 0) await (working ?? Promise.resolve());
    },
  };
}
