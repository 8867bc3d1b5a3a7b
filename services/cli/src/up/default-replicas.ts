import type { DeploymentSpec, DeploymentStore, DriverFactory } from "@espmesh/control-plane";

function setsReplicas(settingsJson: string): boolean {
  try {
    const settings = JSON.parse(settingsJson) as Record<string, unknown> | null;
    return (
      typeof settings === "object" && settings !== null && ("minReplicas" in settings || "maxReplicas" in settings)
    );
  } catch {
    // Settings that do not parse never reach the driver (the control plane refuses them first).
    return true;
  }
}

/**
 * Wraps a driver so that deployments whose settings name neither `minReplicas` nor
 * `maxReplicas` run `replicas` workers (`espmesh up --workers N`) instead of the control
 * plane's default of one. The raw settings are read from the deployment store, which the control
 * plane writes before it hands a deployment to its driver.
 *
 * The control plane itself still sees such a deployment as `minReplicas = maxReplicas = 1`, so
 * its Scale call accepts only 1 for it; set the replica bounds in the settings to scale by hand.
 */
export function withDefaultReplicas(factory: DriverFactory, replicas: number, store: DeploymentStore): DriverFactory {
  return (context) => {
    const driver = factory(context);
    const adjust = async (spec: DeploymentSpec): Promise<DeploymentSpec> => {
      const stored = await store.get(spec.name);
      if (stored === undefined || setsReplicas(stored.settingsJson)) return spec;
      return {
        ...spec,
        replicas,
        settings: { ...spec.settings, minReplicas: replicas, maxReplicas: replicas },
      };
    };
    return {
      apply: async (spec) => driver.apply(await adjust(spec)),
      remove: (name) => driver.remove(name),
      scale: (name, count, reason) => driver.scale(name, count, reason),
      status: (name) => driver.status(name),
      stop: () => driver.stop(),
    };
  };
}
