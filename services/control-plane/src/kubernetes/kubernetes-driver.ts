import { membersFromEndpointSlices } from "@espmesh/registry/kubernetes";
import { MeshError } from "@espmesh/telemetry";
import {
  AppsV1Api,
  AutoscalingV2Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  type V1EndpointSlice,
} from "@kubernetes/client-node";
import type { DeploymentSpec, Driver, DriverFactory, DriverStatus } from "../driver.js";
import { isStatus } from "./child-apis.js";
import { ESP_PROJECT, type EspProject, type EspProjectSpec } from "./esp-project.js";
import { childNames } from "./manifests.js";

/** Options of {@link kubernetesDriver}. */
export interface KubernetesDriverOptions {
  /** @default KubeConfig.loadFromDefault() */
  kubeConfig?: KubeConfig;
  /** Where EspProjects are written (the operator's namespace). @default "default" */
  namespace?: string;
  /** Image of workers and balancer. */
  image: string;
  /** `host:port` of the state service, put in each EspProject. @default none */
  stateAddress?: string;
  /**
   * NATS server(s), put in the EspProjects of deployments with bindings as `natsUrl`.
   * @default none: the operator's own NATS URL applies
   */
  natsUrl?: string;
}

/** The EspProject spec for a deployment. */
export function espProjectSpecOf(spec: DeploymentSpec, options: KubernetesDriverOptions): EspProjectSpec {
  const routing: EspProjectSpec["routing"] = {};
  for (const [window, route] of Object.entries(spec.settings.routing)) {
    routing[window] =
      route.hashFields.length === 0
        ? { policy: route.policy }
        : { policy: route.policy, hashFields: [...route.hashFields] };
  }
  const compiled = spec.settings.bindings;
  const bindings =
    compiled === undefined ? undefined : structuredClone({ outputs: compiled.outputs, inputs: compiled.inputs });
  return {
    project: spec.project,
    image: options.image,
    routing,
    minReplicas: spec.settings.minReplicas,
    maxReplicas: spec.settings.maxReplicas,
    targetCpuUtilization: spec.settings.targetCpuUtilization,
    state: spec.settings.state,
    shards: spec.settings.shards,
    checkpointIntervalMs: spec.settings.checkpointIntervalMs,
    ...(options.stateAddress === undefined ? {} : { stateAddress: options.stateAddress }),
    ...(bindings === undefined ? {} : { bindings }),
    ...(bindings === undefined || options.natsUrl === undefined ? {} : { natsUrl: options.natsUrl }),
  };
}

/**
 * The Kubernetes driver of the Control API: each deployment becomes an EspProject resource,
 * which the operator ({@link createOperator}) turns into Deployments, Services and an HPA.
 * Status reads the worker Deployment, its HPA and the worker Service's EndpointSlices.
 */
export function kubernetesDriver(options: KubernetesDriverOptions): DriverFactory {
  return () => {
    let kubeConfig = options.kubeConfig;
    if (kubeConfig === undefined) {
      kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
    }
    const namespace = options.namespace ?? "default";
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const target = (name: string) => ({ ...ESP_PROJECT, namespace, name });

    const read = async (name: string): Promise<EspProject | undefined> => {
      try {
        return (await custom.getNamespacedCustomObject(target(name))) as EspProject;
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    };

    const driver: Driver = {
      async apply(spec) {
        const body: EspProject = {
          apiVersion: `${ESP_PROJECT.group}/${ESP_PROJECT.version}`,
          kind: ESP_PROJECT.kind,
          metadata: { name: spec.name, namespace, labels: { "app.kubernetes.io/managed-by": "espmesh-control-plane" } },
          spec: espProjectSpecOf(spec, options),
        };
        const live = await read(spec.name);
        if (live === undefined) {
          await custom.createNamespacedCustomObject({ ...ESP_PROJECT, namespace, body });
        } else {
          const resourceVersion = live.metadata.resourceVersion;
          await custom.replaceNamespacedCustomObject({
            ...target(spec.name),
            body: {
              ...body,
              metadata: { ...body.metadata, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
            },
          });
        }
      },
      async remove(name) {
        try {
          await custom.deleteNamespacedCustomObject(target(name));
        } catch (error) {
          if (!isStatus(error, 404)) throw error;
        }
      },
      async scale(name, replicas) {
        const worker = childNames(name).worker;
        let deployment: Awaited<ReturnType<typeof apps.readNamespacedDeployment>>;
        try {
          deployment = await apps.readNamespacedDeployment({ namespace, name: worker });
        } catch (error) {
          if (isStatus(error, 404)) throw new MeshError("UNAVAILABLE", `the operator has not created ${worker} yet`);
          throw error;
        }
        if (deployment.spec === undefined) throw new MeshError("INTERNAL", `${worker} has no spec`);
        deployment.spec.replicas = replicas;
        await apps.replaceNamespacedDeployment({ namespace, name: worker, body: deployment });
      },
      async status(name): Promise<DriverStatus | undefined> {
        const resource = await read(name);
        if (resource === undefined) return undefined;
        const names = childNames(name);
        const [deployment, hpa, slices] = await Promise.all([
          apps.readNamespacedDeployment({ namespace, name: names.worker }).catch(() => undefined),
          autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: names.worker }).catch(() => undefined),
          discovery
            .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${names.worker}` })
            .then((list) => list.items as V1EndpointSlice[])
            .catch(() => [] as V1EndpointSlice[]),
        ]);
        const members = membersFromEndpointSlices(slices);
        const hpaStatus = hpa?.status;
        const lastScaleTime = hpaStatus?.lastScaleTime;
        return {
          replicasDesired: deployment?.spec?.replicas ?? resource.spec.minReplicas ?? 1,
          replicasReady: deployment?.status?.readyReplicas ?? 0,
          workers: members.map((member) => ({ id: member.id, address: member.address, ready: member.ready })),
          balancerAddress: resource.status?.balancerAddress ?? "",
          ...(hpaStatus === undefined || lastScaleTime === undefined
            ? {}
            : {
                lastScaling: {
                  from: hpaStatus.currentReplicas ?? 0,
                  to: hpaStatus.desiredReplicas,
                  reason: "HorizontalPodAutoscaler on worker CPU",
                  atMs: new Date(lastScaleTime).getTime(),
                },
              }),
        };
      },
      async stop() {},
    };
    return driver;
  };
}
