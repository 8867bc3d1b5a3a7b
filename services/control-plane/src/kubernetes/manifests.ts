import { createHash } from "node:crypto";
import type { DeploymentSpec } from "../driver.js";
import { balancerDeploymentOf } from "../process-environment.js";
import { ESP_PROJECT, type EspProject } from "./esp-project.js";

/** Ports and names the manifests use. */
export const WORKER_PORT = 7000;
/** The balancer's gRPC port. */
export const BALANCER_PORT = 7100;
/** Annotation holding the hash of what the operator last wrote, to skip needless updates. */
export const SPEC_HASH_ANNOTATION = "espmesh.io/spec-hash";
/** Label every child carries: the EspProject it belongs to. */
export const PROJECT_LABEL = "espmesh.io/project";
/** Label every child carries, with the value {@link MANAGED_BY}: the operator's watch selects on it. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** The value of {@link MANAGED_BY_LABEL} on the operator's children. */
export const MANAGED_BY = "espmesh-operator";

/** One object the operator keeps in line with an EspProject. */
export interface ChildObject {
  kind: "ConfigMap" | "Service" | "Deployment" | "HorizontalPodAutoscaler";
  name: string;
  body: {
    apiVersion: string;
    kind: string;
    metadata: {
      name: string;
      namespace: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      ownerReferences: object[];
    };
    [key: string]: unknown;
  };
}

/** Options of {@link desiredChildren}. */
export interface ManifestOptions {
  /** Service account of the balancer pods (needs list/watch on EndpointSlices). */
  balancerServiceAccount: string;
  /**
   * NATS server(s) for projects with bindings, unless their spec sets `natsUrl`; passed to their
   * workers and balancer as ESPMESH_NATS_URL. @default none
   */
  natsUrl?: string;
}

/** Names of an EspProject's children. */
export function childNames(project: string): { config: string; worker: string; balancer: string } {
  return { config: `${project}-project`, worker: `${project}-worker`, balancer: `${project}-balancer` };
}

/** The windows a deployment binds to NATS, as `bindings.outputs.<window>` / `bindings.inputs.<window>`. */
export function boundWindows(deployment: DeploymentSpec): string[] {
  const bindings = deployment.settings.bindings;
  if (bindings === undefined) return [];
  return [
    ...Object.keys(bindings.outputs).map((window) => `bindings.outputs.${window}`),
    ...Object.keys(bindings.inputs).map((window) => `bindings.inputs.${window}`),
  ];
}

/**
 * The NATS URL the project's pods get: none when its settings bind nothing; else the spec's
 * `natsUrl`, else the operator's. Undefined with bindings means it is missing.
 */
export function natsUrlOf(
  resource: EspProject,
  deployment: DeploymentSpec,
  options: ManifestOptions,
): string | undefined {
  if (boundWindows(deployment).length === 0) return undefined;
  const url = resource.spec.natsUrl ?? options.natsUrl;
  return url === undefined || url === "" ? undefined : url;
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/**
 * The objects an EspProject needs: a ConfigMap with the project and compiled settings, the
 * worker Deployment and its headless Service (whose EndpointSlices the balancer watches), an
 * autoscaling/v2 HPA on worker CPU, and the balancer Deployment and Service. Each carries an
 * owner reference to the EspProject (so Kubernetes collects them) and the hash of its own body.
 */
export function desiredChildren(
  resource: EspProject,
  deployment: DeploymentSpec,
  options: ManifestOptions,
): ChildObject[] {
  const { settings, projectFormat: format } = deployment;
  const name = resource.metadata.name;
  const namespace = resource.metadata.namespace ?? "default";
  const spec = resource.spec;
  const names = childNames(name);
  const owner = {
    apiVersion: `${ESP_PROJECT.group}/${ESP_PROJECT.version}`,
    kind: ESP_PROJECT.kind,
    name,
    uid: resource.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
  const labels = (component: string) => ({
    "app.kubernetes.io/name": "espmesh",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/component": component,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [PROJECT_LABEL]: name,
  });
  const selector = (component: string) => ({ [PROJECT_LABEL]: name, "app.kubernetes.io/component": component });
  const projectKey = `project.${format}`;
  const configData = {
    [projectKey]: spec.project,
    "settings.json": JSON.stringify(settings),
    "deployment.json": JSON.stringify(balancerDeploymentOf(deployment)),
  };
  const configHash = hashOf(configData);
  const fromConfig = (name: string, key: string) => ({
    name,
    valueFrom: { configMapKeyRef: { name: names.config, key } },
  });
  const fromPod = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const natsUrl = natsUrlOf(resource, deployment, options);
  const nats = natsUrl === undefined ? [] : [{ name: "ESPMESH_NATS_URL", value: natsUrl }];
  // The environment services/worker/src/main.ts and services/balancer/src/main.ts read.
  const envOf = (role: "worker" | "balancer", port: number) =>
    role === "worker"
      ? [
          { name: "ESPMESH_ROLE", value: "worker" },
          fromPod("ESPMESH_WORKER_ID", "metadata.name"),
          { name: "ESPMESH_PROJECT", value: name },
          { name: "ESPMESH_DEPLOYMENT", value: name },
          { name: "ESPMESH_PROJECT_FILE", value: `/etc/espmesh/${projectKey}` },
          fromConfig("ESPMESH_SETTINGS", "settings.json"),
          { name: "ESPMESH_WORKER_ADDRESS", value: `0.0.0.0:${port}` },
          ...(spec.stateAddress === undefined || settings.state === "none"
            ? []
            : [{ name: "ESPMESH_STATE_ADDRESS", value: spec.stateAddress }]),
          ...nats,
        ]
      : [
          { name: "ESPMESH_ROLE", value: "balancer" },
          fromPod("ESPMESH_BALANCER_ID", "metadata.name"),
          { name: "ESPMESH_BALANCER_ADDRESS", value: `0.0.0.0:${port}` },
          fromConfig("ESPMESH_DEPLOYMENT_JSON", "deployment.json"),
          { name: "ESPMESH_K8S_SERVICE", value: names.worker },
          fromPod("ESPMESH_K8S_NAMESPACE", "metadata.namespace"),
          ...nats,
        ];
  const podSpec = (role: "worker" | "balancer", port: number, extra: Record<string, unknown>) => ({
    ...extra,
    containers: [
      {
        name: role,
        image: spec.image,
        imagePullPolicy: spec.imagePullPolicy ?? "IfNotPresent",
        env: envOf(role, port),
        ports: [{ name: "grpc", containerPort: port, protocol: "TCP" }],
        readinessProbe: { tcpSocket: { port }, periodSeconds: 5 },
        volumeMounts: [{ name: "project", mountPath: "/etc/espmesh", readOnly: true }],
        ...(role === "worker"
          ? { resources: spec.workerResources ?? { requests: { cpu: "500m", memory: "256Mi" } } }
          : {}),
      },
    ],
    volumes: [{ name: "project", configMap: { name: names.config } }],
  });
  const deploymentOf = (
    role: "worker" | "balancer",
    port: number,
    replicas: number,
    extra: Record<string, unknown>,
  ) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    spec: {
      replicas,
      selector: { matchLabels: selector(role) },
      template: {
        metadata: { labels: labels(role), annotations: { "espmesh.io/config-hash": configHash } },
        spec: podSpec(role, port, extra),
      },
    },
  });
  const bodies: [ChildObject["kind"], string, string, Record<string, unknown>][] = [
    ["ConfigMap", names.config, "project", { apiVersion: "v1", kind: "ConfigMap", data: configData }],
    [
      "Service",
      names.worker,
      "worker",
      {
        apiVersion: "v1",
        kind: "Service",
        spec: {
          clusterIP: "None",
          selector: selector("worker"),
          ports: [{ name: "grpc", port: WORKER_PORT, targetPort: WORKER_PORT, protocol: "TCP" }],
        },
      },
    ],
    [
      "Deployment",
      names.worker,
      "worker",
      deploymentOf("worker", WORKER_PORT, settings.minReplicas, { terminationGracePeriodSeconds: 30 }),
    ],
    [
      "HorizontalPodAutoscaler",
      names.worker,
      "worker",
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.worker },
          minReplicas: settings.minReplicas,
          maxReplicas: settings.maxReplicas,
          metrics: [
            {
              type: "Resource",
              resource: {
                name: "cpu",
                target: { type: "Utilization", averageUtilization: settings.targetCpuUtilization },
              },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
        },
      },
    ],
    [
      "Deployment",
      names.balancer,
      "balancer",
      deploymentOf("balancer", BALANCER_PORT, spec.balancerReplicas ?? 1, {
        serviceAccountName: options.balancerServiceAccount,
      }),
    ],
    [
      "Service",
      names.balancer,
      "balancer",
      {
        apiVersion: "v1",
        kind: "Service",
        spec: {
          selector: selector("balancer"),
          ports: [{ name: "grpc", port: BALANCER_PORT, targetPort: BALANCER_PORT, protocol: "TCP" }],
        },
      },
    ],
  ];
  return bodies.map(([kind, childName, component, body]) => ({
    kind,
    name: childName,
    body: {
      ...body,
      apiVersion: body.apiVersion as string,
      kind: body.kind as string,
      metadata: {
        name: childName,
        namespace,
        labels: labels(component),
        annotations: { [SPEC_HASH_ANNOTATION]: hashOf(body) },
        ownerReferences: [owner],
      },
    },
  }));
}
