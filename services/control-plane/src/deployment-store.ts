import type { ProjectFormat } from "./project-shape.js";

/** A deployment as persisted: enough to run it again after a control-plane restart. */
export interface StoredDeployment {
  readonly name: string;
  /** The project text as given. */
  readonly project: string;
  readonly projectFormat: ProjectFormat;
  /** The settings JSON as given (compiled again on load, against the project). */
  readonly settingsJson: string;
  /** Worker replicas last chosen (by Scale or the autoscaler). */
  readonly replicas: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** Where deployments persist. Implementations: memory, file (embedded mode), Redis. */
export interface DeploymentStore {
  /** Every deployment, sorted by name. */
  list(): Promise<StoredDeployment[]>;
  get(name: string): Promise<StoredDeployment | undefined>;
  /** Creates or replaces the deployment of that name. */
  put(deployment: StoredDeployment): Promise<void>;
  /** Removes it; returns whether it existed. */
  delete(name: string): Promise<boolean>;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/** A store that forgets everything on restart (tests, throwaway runs). */
export function createMemoryDeploymentStore(): DeploymentStore {
  const deployments = new Map<string, StoredDeployment>();
  return {
    list: async () => [...deployments.values()].sort((a, b) => a.name.localeCompare(b.name)),
    get: async (name) => deployments.get(name),
    put: async (deployment) => {
      deployments.set(deployment.name, { ...deployment });
    },
    delete: async (name) => deployments.delete(name),
    close: async () => {},
  };
}
