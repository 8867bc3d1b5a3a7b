import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeploymentStatusSchema } from "@espmesh/proto";
import { type Logger, MeshError } from "@espmesh/telemetry";
import { BalancerProbe } from "./balancer-probe.js";
import {
  type CompiledDeploymentSettings,
  compileDeploymentSettings,
  type SettingsDefaults,
} from "./deployment-settings.js";
import type { DeploymentStore, StoredDeployment } from "./deployment-store.js";
import type { DeploymentSpec, Driver, DriverStatus } from "./driver.js";
import type { ProjectLoader } from "./project-shape.js";
import { WorkerProbe } from "./worker-probe.js";

/** A deployment's status as the Control API returns it. */
export type DeploymentStatusInit = MessageInitShape<typeof DeploymentStatusSchema>;

interface Active {
  stored: StoredDeployment;
  spec?: DeploymentSpec;
  failure?: string;
}

/** What a {@link DeploymentManager} works with. */
export interface DeploymentManagerOptions {
  readonly store: DeploymentStore;
  readonly driver: Driver;
  readonly load: ProjectLoader;
  readonly logger: Logger;
  /**
   * In status calls, ask each worker's Health for its shard count and the balancer's Stats for
   * events/s, in flight, shard moves and input lag. @default true
   */
  readonly probe?: boolean;
  /** Defaults for settings that leave them out. */
  readonly defaults?: SettingsDefaults;
}

const NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Checks a deployment name: it becomes part of process ids and Kubernetes object names. */
export function checkDeploymentName(name: string): void {
  if (name.length === 0 || name.length > 40 || !NAME_PATTERN.test(name)) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `deployment name ${JSON.stringify(name)} must be 1-40 lowercase letters, digits and "-", starting with a letter`,
    );
  }
}

function clampReplicas(replicas: number, settings: CompiledDeploymentSettings): number {
  return Math.min(settings.maxReplicas, Math.max(settings.minReplicas, replicas));
}

/**
 * The control plane's model of deployments: validates, persists and hands them to the driver,
 * and reports their status. Changes to one deployment are serialised.
 */
export class DeploymentManager {
  readonly #store: DeploymentStore;
  readonly #driver: Driver;
  readonly #load: ProjectLoader;
  readonly #logger: Logger;
  readonly #active = new Map<string, Active>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #probe: WorkerProbe | undefined;
  readonly #balancers: BalancerProbe | undefined;
  readonly #defaults: SettingsDefaults;

  constructor(options: DeploymentManagerOptions) {
    this.#store = options.store;
    this.#driver = options.driver;
    this.#load = options.load;
    this.#logger = options.logger;
    this.#defaults = options.defaults ?? {};
    const probe = options.probe ?? true;
    this.#probe = probe ? new WorkerProbe() : undefined;
    this.#balancers = probe ? new BalancerProbe() : undefined;
  }

  /** Releases the probes' connections. */
  close(): void {
    this.#probe?.close();
    this.#balancers?.close();
  }

  /** Starts every stored deployment; one that no longer loads is kept, marked failed. */
  async restore(): Promise<void> {
    for (const stored of await this.#store.list()) {
      await this.#lock(stored.name, async () => {
        try {
          const spec = await this.#prepare(stored);
          await this.#driver.apply(spec);
          this.#active.set(stored.name, { stored, spec });
        } catch (error) {
          const failure = MeshError.from(error).message;
          this.#logger.error({ deployment: stored.name, err: error }, "cannot restart a stored deployment");
          this.#active.set(stored.name, { stored, failure });
        }
      });
    }
  }

  /** Creates or replaces a deployment. */
  deploy(
    name: string,
    project: string,
    settingsJson: string,
  ): Promise<{ status: DeploymentStatusInit; created: boolean }> {
    checkDeploymentName(name);
    return this.#lock(name, async () => {
      const previous = this.#active.get(name)?.stored ?? (await this.#store.get(name));
      const now = Date.now();
      const draft: StoredDeployment = {
        name,
        project,
        projectFormat: "yaml",
        settingsJson,
        replicas: previous?.replicas ?? 0,
        createdAtMs: previous?.createdAtMs ?? now,
        updatedAtMs: now,
      };
      const spec = await this.#prepare(draft);
      const stored: StoredDeployment = { ...draft, projectFormat: spec.projectFormat, replicas: spec.replicas };
      await this.#store.put(stored);
      await this.#run(stored, spec);
      return { status: await this.#status(name), created: previous === undefined };
    });
  }

  /** Changes a deployment's project and/or settings (empty keeps the current one). */
  update(name: string, project: string, settingsJson: string): Promise<DeploymentStatusInit> {
    return this.#lock(name, async () => {
      const current = this.#require(name);
      const draft: StoredDeployment = {
        ...current.stored,
        project: project === "" ? current.stored.project : project,
        settingsJson: settingsJson === "" ? current.stored.settingsJson : settingsJson,
        updatedAtMs: Date.now(),
      };
      const spec = await this.#prepare(draft);
      const stored: StoredDeployment = { ...draft, projectFormat: spec.projectFormat, replicas: spec.replicas };
      await this.#store.put(stored);
      await this.#run(stored, spec);
      return this.#status(name);
    });
  }

  /** Stops and forgets a deployment. */
  delete(name: string): Promise<void> {
    return this.#lock(name, async () => {
      this.#require(name);
      await this.#driver.remove(name);
      await this.#store.delete(name);
      this.#active.delete(name);
    });
  }

  /** Sets the worker count within the settings' min and max. */
  scale(name: string, replicas: number): Promise<DeploymentStatusInit> {
    return this.#lock(name, async () => {
      const current = this.#require(name);
      const spec = current.spec;
      if (spec === undefined) {
        throw new MeshError(
          "FAILED_PRECONDITION",
          `deployment ${name} is not running: ${current.failure ?? "unknown"}`,
        );
      }
      const { minReplicas, maxReplicas } = spec.settings;
      if (replicas < minReplicas || replicas > maxReplicas) {
        throw new MeshError(
          "INVALID_ARGUMENT",
          `replicas ${replicas} is outside minReplicas..maxReplicas (${minReplicas}..${maxReplicas}) of deployment ${name}; update its settings to change the bounds`,
          { details: { deployment: name } },
        );
      }
      await this.#driver.scale(name, replicas, `scaled to ${replicas} through the Control API`);
      this.#remember(name, replicas);
      return this.#status(name);
    });
  }

  /** Records replicas the driver chose on its own (autoscaling), so a restart keeps them. */
  scaled(name: string, replicas: number): void {
    this.#remember(name, replicas);
  }

  /** One deployment's status. */
  get(name: string): Promise<DeploymentStatusInit> {
    this.#require(name);
    return this.#status(name);
  }

  /** Every deployment's status, by name. */
  async list(): Promise<DeploymentStatusInit[]> {
    const names = [...this.#active.keys()].sort();
    const statuses = await Promise.all(names.map((name) => this.#status(name)));
    const addresses = statuses.flatMap((status) => (status.workers ?? []).map((worker) => worker.address ?? ""));
    this.#probe?.prune(new Set(addresses));
    this.#balancers?.prune(new Set(statuses.map((status) => status.balancerAddress ?? "")));
    return statuses;
  }

  /** Hands a stored deployment to the driver; a driver failure leaves it listed as failed. */
  async #run(stored: StoredDeployment, spec: DeploymentSpec): Promise<void> {
    try {
      await this.#driver.apply(spec);
    } catch (error) {
      const failure = MeshError.from(error);
      this.#active.set(stored.name, { stored, failure: `the driver could not start it: ${failure.message}` });
      throw failure;
    }
    this.#active.set(stored.name, { stored, spec });
  }

  #remember(name: string, replicas: number): void {
    const current = this.#active.get(name);
    if (current === undefined || current.stored.replicas === replicas) return;
    current.stored = { ...current.stored, replicas, updatedAtMs: Date.now() };
    if (current.spec !== undefined) current.spec = { ...current.spec, replicas };
    this.#store.put(current.stored).catch((error: unknown) => {
      this.#logger.error({ deployment: name, err: error }, "cannot persist the replica count");
    });
  }

  #require(name: string): Active {
    const current = this.#active.get(name);
    if (current === undefined)
      throw new MeshError("NOT_FOUND", `no deployment named ${name}`, { details: { deployment: name } });
    return current;
  }

  async #prepare(stored: StoredDeployment): Promise<DeploymentSpec> {
    const loaded = await this.#load(stored.project, stored.name);
    const settings = compileDeploymentSettings(stored.settingsJson, loaded.model, this.#defaults);
    const replicas = clampReplicas(stored.replicas === 0 ? settings.minReplicas : stored.replicas, settings);
    return {
      name: stored.name,
      project: stored.project,
      projectFormat: loaded.format,
      model: loaded.model,
      settings,
      replicas,
    };
  }

  async #status(name: string): Promise<DeploymentStatusInit> {
    const current = this.#require(name);
    let running: DriverStatus | undefined;
    let message = current.failure ?? "";
    if (current.spec !== undefined) {
      try {
        running = await this.#driver.status(name);
      } catch (error) {
        message = `status unavailable: ${MeshError.from(error).message}`;
      }
    }
    const spec = current.spec;
    const last = running?.lastScaling;
    const addresses = (running?.workers ?? []).map((worker) => worker.address).filter((address) => address !== "");
    const [shards, balancer] = await Promise.all([
      this.#probe === undefined ? new Map<string, number>() : this.#probe.shardsOwned(addresses),
      this.#balancers?.stats(running?.balancerAddress ?? ""),
    ]);
    return {
      name,
      settingsJson: spec === undefined ? current.stored.settingsJson : JSON.stringify(spec.settings),
      replicasDesired: running?.replicasDesired ?? spec?.replicas ?? current.stored.replicas,
      replicasReady: running?.replicasReady ?? 0,
      workers: (running?.workers ?? []).map((worker) => ({
        id: worker.id,
        address: worker.address,
        pid: worker.pid ?? 0,
        ready: worker.ready,
        shardsOwned: shards.get(worker.address) ?? 0,
        restarts: worker.restarts ?? 0,
      })),
      balancerAddress: running?.balancerAddress ?? "",
      sourceWindows: spec === undefined ? [] : [...spec.model.sources],
      projectFormat: spec?.projectFormat ?? current.stored.projectFormat,
      phase: spec === undefined ? "failed" : "running",
      message,
      balancerReachable: balancer !== undefined,
      ...(balancer === undefined
        ? {}
        : {
            eventsPerSecond: balancer.eventsPerSecond,
            inFlight: balancer.inFlightEvents,
            shardMoves: balancer.shardMoves,
            heldEvents: balancer.heldEvents,
            inputLag: balancer.inputLag,
          }),
      ...(last === undefined
        ? {}
        : {
            lastScaling: { fromReplicas: last.from, toReplicas: last.to, reason: last.reason, atMs: BigInt(last.atMs) },
          }),
    };
  }

  #lock<T>(name: string, run: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(name) ?? Promise.resolve();
    const result = before.then(run, run);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(name, settled);
    void settled.then(() => {
      if (this.#locks.get(name) === settled) this.#locks.delete(name);
    });
    return result;
  }
}
