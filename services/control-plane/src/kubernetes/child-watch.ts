import { createResilientInformer, type ResilientInformer } from "@espmesh/registry/kubernetes";
import type { Logger } from "@espmesh/telemetry";
import { AppsV1Api, type KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { MANAGED_BY, MANAGED_BY_LABEL, PROJECT_LABEL } from "./manifests.js";

/** Options of {@link createChildWatch}. */
export interface ChildWatchOptions {
  kubeConfig: KubeConfig;
  /** The namespace the operator works in. */
  namespace: string;
  /** The watch is restarted when silent this long. @default 120000 */
  silenceMs?: number;
  logger: Logger;
  /**
   * Called with the name of an EspProject one of whose Deployments appeared, disappeared or
   * changed its replica counts (ready, available, updated, total).
   */
  onProjectChanged: (project: string) => void;
}

/** What of a child Deployment the EspProject's status depends on. */
function fingerprintOf(deployment: V1Deployment): string {
  const status = deployment.status ?? {};
  return [
    status.replicas ?? 0,
    status.readyReplicas ?? 0,
    status.availableReplicas ?? 0,
    status.updatedReplicas ?? 0,
  ].join("/");
}

/**
 * Watches the Deployments the operator created (selected by its managed-by label) with the same
 * self-healing informer as the EspProject watch, and reports which EspProject's children changed
 * in a way its status reflects: so `Ready` follows pods becoming ready or unready as soon as the
 * Deployment controller counts them, and a child deleted behind the operator's back is put back,
 * without waiting for the periodic resync. The operator's own writes that leave the replica
 * counts alone are not reported.
 */
export function createChildWatch(options: ChildWatchOptions): ResilientInformer {
  const apps = options.kubeConfig.makeApiClient(AppsV1Api);
  const namespace = options.namespace;
  const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  // Deployment name → [project, fingerprint], as of the last notification.
  let seen = new Map<string, readonly [string, string]>();
  return createResilientInformer<V1Deployment>({
    kubeConfig: options.kubeConfig,
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`,
    list: () => apps.listNamespacedDeployment({ namespace, labelSelector }),
    labelSelector,
    ...(options.silenceMs === undefined ? {} : { silenceMs: options.silenceMs }),
    logger: options.logger,
    name: `espmesh deployments ${namespace}`,
    onChange: (deployments) => {
      const next = new Map<string, readonly [string, string]>();
      const changed = new Set<string>();
      for (const deployment of deployments) {
        const name = deployment.metadata?.name;
        const project = deployment.metadata?.labels?.[PROJECT_LABEL];
        if (name === undefined || project === undefined) continue;
        const entry = [project, fingerprintOf(deployment)] as const;
        next.set(name, entry);
        const before = seen.get(name);
        if (before === undefined || before[0] !== entry[0] || before[1] !== entry[1]) changed.add(project);
      }
      for (const [name, [project]] of seen) if (!next.has(name)) changed.add(project);
      seen = next;
      for (const project of changed) options.onProjectChanged(project);
    },
  });
}
