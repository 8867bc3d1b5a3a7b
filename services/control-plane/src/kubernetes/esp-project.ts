import type { BindingSettings } from "../binding-settings.js";
import type { DeploymentSettings, RoutingSetting, StateBackendName } from "../deployment-settings.js";

/** API group, version and plural of the EspProject custom resource. */
export const ESP_PROJECT = {
  group: "espmesh.io",
  version: "v1alpha1",
  plural: "espprojects",
  kind: "EspProject",
} as const;

/** The spec of an EspProject (deploy/crds/espproject.yaml). */
export interface EspProjectSpec {
  project: string;
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  routing?: Record<string, RoutingSetting>;
  minReplicas?: number;
  maxReplicas?: number;
  targetCpuUtilization?: number;
  state?: StateBackendName;
  stateAddress?: string;
  shards?: number;
  checkpointIntervalMs?: number;
  /** Cascades (DESIGN §9): window outputs to subjects, source windows from durable consumers. */
  bindings?: BindingSettings;
  /** NATS server(s) of this project's bindings. @default the operator's ESPMESH_NATS_URL */
  natsUrl?: string;
  balancerReplicas?: number;
  workerResources?: Record<string, unknown>;
}

/** A status condition, as Kubernetes conventions shape it. */
export interface EspProjectCondition {
  type: "Valid" | "Reconciled" | "Ready";
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** The status the operator writes. */
export interface EspProjectStatus {
  observedGeneration?: number;
  workers?: number;
  readyWorkers?: number;
  readyBalancers?: number;
  balancerAddress?: string;
  conditions?: EspProjectCondition[];
}

/** An EspProject object. */
export interface EspProject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  spec: EspProjectSpec;
  status?: EspProjectStatus;
}

/** The deployment settings an EspProject spec carries (the same JSON shape as the Control API). */
export function settingsOfSpec(spec: EspProjectSpec): DeploymentSettings {
  const settings: DeploymentSettings = {};
  if (spec.routing !== undefined) settings.routing = spec.routing;
  if (spec.minReplicas !== undefined) settings.minReplicas = spec.minReplicas;
  if (spec.maxReplicas !== undefined) settings.maxReplicas = spec.maxReplicas;
  if (spec.targetCpuUtilization !== undefined) settings.targetCpuUtilization = spec.targetCpuUtilization;
  if (spec.state !== undefined) settings.state = spec.state;
  if (spec.shards !== undefined) settings.shards = spec.shards;
  if (spec.checkpointIntervalMs !== undefined) settings.checkpointIntervalMs = spec.checkpointIntervalMs;
  if (spec.bindings !== undefined) settings.bindings = spec.bindings;
  return settings;
}
