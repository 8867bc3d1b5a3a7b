import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { DiscoveryV1Api, KubeConfig, type V1EndpointSlice } from "@kubernetes/client-node";
import type { BackoffOptions } from "./backoff.js";
import { membersFromEndpointSlices } from "./endpoint-slice-members.js";
import { createResilientInformer } from "./kube-informer.js";
import { SnapshotHub } from "./snapshot-hub.js";
import type { Registry } from "./types.js";

/** Options of {@link createKubernetesRegistry}. */
export interface KubernetesRegistryOptions {
  /** The Service whose EndpointSlices (label `kubernetes.io/service-name`) list the workers. */
  service: string;
  /** Namespace of the Service. @default "default" */
  namespace?: string;
  /** Where the API server is. @default KubeConfig.loadFromDefault() (in-cluster or ~/.kube/config) */
  kubeConfig?: KubeConfig;
  /** The worker port: a port name in the slices, or a number. @default the slice's first port */
  port?: string | number;
  /** Restart the informer when the watch sends nothing (no event, no bookmark) for this long. @default 120000 */
  silenceMs?: number;
  /** Delays between restarts after errors. @default { initialMs: 200, maxMs: 30000 } */
  backoff?: BackoffOptions;
  /** @default no-op */
  logger?: Logger;
}

/** A Kubernetes registry; `restarts` counts informer restarts (errors and silences). */
export interface KubernetesRegistry extends Registry {
  readonly restarts: number;
}

/** {@link KubernetesRegistryOptions} with every default applied. */
export interface CompiledKubernetesRegistryOptions {
  service: string;
  namespace: string;
  kubeConfig: KubeConfig;
  port: string | number | undefined;
  silenceMs: number;
  backoff: BackoffOptions;
  logger: Logger;
}

/** Applies defaults to and validates {@link KubernetesRegistryOptions}. */
export function compileKubernetesRegistryOptions(
  options: KubernetesRegistryOptions,
): CompiledKubernetesRegistryOptions {
  if (options.service === "") throw new MeshError("INVALID_ARGUMENT", "kubernetes registry: `service` is required");
  const silenceMs = options.silenceMs ?? 120_000;
  if (!(silenceMs > 0)) throw new MeshError("INVALID_ARGUMENT", "kubernetes registry: `silenceMs` must be positive");
  let kubeConfig = options.kubeConfig;
  if (kubeConfig === undefined) {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
  }
  return {
    service: options.service,
    namespace: options.namespace ?? "default",
    kubeConfig,
    port: options.port,
    silenceMs,
    backoff: options.backoff ?? {},
    logger: (options.logger ?? noopLogger).child({ component: "registry" }),
  };
}

/**
 * Worker membership from the EndpointSlices of a Kubernetes Service, through an informer that
 * relists on 410 Gone, restarts after errors (with backoff) and when its watch goes silent.
 * Members are merged across all slices of the Service; a Service with no endpoints yields an
 * empty snapshot. The informer starts with the first `watch` and runs until `close`.
 */
export function createKubernetesRegistry(options: KubernetesRegistryOptions): KubernetesRegistry {
  const config = compileKubernetesRegistryOptions(options);
  const hub = new SnapshotHub();
  const api = config.kubeConfig.makeApiClient(DiscoveryV1Api);
  const labelSelector = `kubernetes.io/service-name=${config.service}`;
  const informer = createResilientInformer<V1EndpointSlice>({
    kubeConfig: config.kubeConfig,
    path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(config.namespace)}/endpointslices`,
    list: () => api.listNamespacedEndpointSlice({ namespace: config.namespace, labelSelector }),
    labelSelector,
    silenceMs: config.silenceMs,
    backoff: config.backoff,
    logger: config.logger,
    name: `endpointslices ${config.namespace}/${config.service}`,
    onChange: (slices) => {
      const members = membersFromEndpointSlices(slices, config.port === undefined ? {} : { port: config.port });
      if (hub.publish(members)) {
        config.logger.debug({ service: config.service, version: hub.current?.version }, "membership changed");
      }
    },
  });
  let started = false;
  return {
    watch(signal) {
      if (!started && !hub.closed) {
        started = true;
        informer.start();
      }
      return hub.watch(signal);
    },
    async close() {
      hub.close();
      await informer.stop();
    },
    get restarts() {
      return informer.restarts;
    },
  };
}
