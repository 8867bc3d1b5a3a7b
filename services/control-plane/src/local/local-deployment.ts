import type { BackoffOptions, MembershipSnapshot } from "@espmesh/registry";
import type { Logger } from "@espmesh/telemetry";
import type { DeploymentSpec, DriverStatus, DriverWorker, ScalingRecord } from "../driver.js";
import { CpuMeter, type CpuTimeReader } from "./cpu-meter.js";
import { hpaRecommendation, stabilizeScaleDown, type TimedRecommendation } from "./hpa.js";
import { type ProcessCommand, SupervisedProcess } from "./supervised-process.js";

/** What a {@link LocalDeployment} is given by its driver. */
export interface LocalDeploymentOptions {
  spec: DeploymentSpec;
  workerCommand: ProcessCommand;
  balancerCommand: ProcessCommand | undefined;
  /** Environment of both kinds of children (the driver's contract, see local-driver.ts). */
  env: (role: "worker" | "balancer", id: string) => Record<string, string>;
  balancerAddress: string;
  membership: () => MembershipSnapshot;
  onScaled: (replicas: number) => void;
  cpuTimeReader: CpuTimeReader | undefined;
  syncPeriodMs: number;
  scaleDownStabilizationMs: number;
  tolerance: number;
  restartBackoff: BackoffOptions;
  stopGraceMs: number;
  inheritOutput: boolean;
  logger: Logger;
}

/**
 * One deployment run as local processes: a balancer and N workers, each supervised (restarted
 * when it crashes), with the HPA rule run every sync period on the workers' CPU.
 */
export class LocalDeployment {
  readonly #options: LocalDeploymentOptions;
  readonly #workers: (SupervisedProcess | undefined)[] = [];
  readonly #stopping = new Set<Promise<void>>();
  readonly #meter: CpuMeter;
  #spec: DeploymentSpec;
  #balancer: SupervisedProcess | undefined;
  #desired: number;
  #history: TimedRecommendation[] = [];
  #lastScaling: ScalingRecord | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;

  constructor(options: LocalDeploymentOptions) {
    this.#options = options;
    this.#spec = options.spec;
    this.#desired = options.spec.replicas;
    this.#meter = new CpuMeter(options.cpuTimeReader);
  }

  /** The spec it runs. */
  get spec(): DeploymentSpec {
    return this.#spec;
  }

  /** Starts the balancer, the workers and the autoscaler. */
  start(): void {
    const { balancerCommand } = this.#options;
    if (balancerCommand !== undefined) {
      this.#balancer = this.#process("balancer", `${this.#spec.name}-balancer`, balancerCommand);
      this.#balancer.start();
    }
    this.#reconcileWorkers();
    if (this.#spec.settings.maxReplicas > this.#spec.settings.minReplicas) {
      this.#timer = setInterval(() => this.#tick(), this.#options.syncPeriodMs);
    }
  }

  /** Sets the worker count, starting or stopping workers (highest slots stop first). */
  scale(replicas: number, reason: string): void {
    if (replicas === this.#desired) return;
    this.#lastScaling = { from: this.#desired, to: replicas, reason, atMs: Date.now() };
    this.#options.logger.info({ deployment: this.#spec.name, ...this.#lastScaling }, "scaling workers");
    this.#desired = replicas;
    this.#reconcileWorkers();
  }

  /** The running state. */
  status(): DriverStatus {
    const members = new Map(this.#options.membership().members.map((member) => [member.id, member]));
    const workers: DriverWorker[] = [];
    for (let slot = 0; slot < this.#workers.length; slot++) {
      const process = this.#workers[slot];
      if (process === undefined) continue;
      const id = this.#workerId(slot);
      const member = members.get(id);
      const pid = process.pid;
      workers.push({
        id,
        address: member?.address ?? "",
        ...(pid === undefined ? {} : { pid }),
        ready: pid !== undefined && member?.ready === true,
        restarts: process.restarts,
      });
    }
    return {
      replicasDesired: this.#desired,
      replicasReady: workers.filter((worker) => worker.ready).length,
      workers,
      balancerAddress: this.#balancer === undefined ? "" : this.#options.balancerAddress,
      ...(this.#lastScaling === undefined ? {} : { lastScaling: this.#lastScaling }),
    };
  }

  /** Stops every process and the autoscaler. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#workers, this.#balancer].filter((p): p is SupervisedProcess => p !== undefined);
    this.#workers.length = 0;
    this.#balancer = undefined;
    await Promise.all([...all.map((p) => p.stop()), ...this.#stopping]);
  }

  #workerId(slot: number): string {
    return `${this.#spec.name}-worker-${slot}`;
  }

  #process(role: "worker" | "balancer", id: string, command: ProcessCommand): SupervisedProcess {
    return new SupervisedProcess({
      name: id,
      command,
      env: this.#options.env(role, id),
      restartBackoff: this.#options.restartBackoff,
      stopGraceMs: this.#options.stopGraceMs,
      inheritOutput: this.#options.inheritOutput,
      logger: this.#options.logger,
    });
  }

  #reconcileWorkers(): void {
    for (let slot = 0; slot < this.#desired; slot++) {
      if (this.#workers[slot] !== undefined) continue;
      const process = this.#process("worker", this.#workerId(slot), this.#options.workerCommand);
      this.#workers[slot] = process;
      process.start();
    }
    for (let slot = this.#workers.length - 1; slot >= this.#desired; slot--) {
      const process = this.#workers[slot];
      this.#workers.length = slot;
      if (process === undefined) continue;
      const stopping = process.stop().catch((error: unknown) => {
        this.#options.logger.error({ err: error, worker: this.#workerId(slot) }, "stopping a worker failed");
      });
      this.#stopping.add(stopping);
      void stopping.finally(() => this.#stopping.delete(stopping));
    }
  }

  #tick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    this.#autoscale()
      .catch((error: unknown) => this.#options.logger.error({ err: error }, "autoscaling failed"))
      .finally(() => {
        this.#ticking = false;
      });
  }

  async #autoscale(): Promise<void> {
    const pids = this.#workers.map((process) => process?.pid).filter((pid): pid is number => pid !== undefined);
    const utilization = await this.#meter.measure(pids);
    if (utilization.size === 0) return;
    const cpu = [...utilization.values()].reduce((sum, value) => sum + value, 0) / utilization.size;
    const { minReplicas, maxReplicas, targetCpuUtilization } = this.#spec.settings;
    const recommendation = hpaRecommendation({
      currentReplicas: this.#desired,
      cpuUtilization: cpu,
      targetUtilization: targetCpuUtilization,
      minReplicas,
      maxReplicas,
      tolerance: this.#options.tolerance,
    });
    const atMs = Date.now();
    const stable = stabilizeScaleDown(
      this.#history,
      { atMs, replicas: recommendation.replicas },
      this.#options.scaleDownStabilizationMs,
    );
    this.#history = stable.history;
    if (stable.replicas === this.#desired) return;
    const held = stable.replicas !== recommendation.replicas;
    const reason = held
      ? `${recommendation.reason}; held at ${stable.replicas} by the ${this.#options.scaleDownStabilizationMs} ms scale-down stabilisation window`
      : recommendation.reason;
    this.scale(stable.replicas, reason);
    this.#options.onScaled(stable.replicas);
  }
}
