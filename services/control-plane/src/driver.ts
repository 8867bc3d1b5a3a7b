import type { MembershipSnapshot } from "@espmesh/registry";
import type { Logger } from "@espmesh/telemetry";
import type { CompiledDeploymentSettings } from "./deployment-settings.js";
import type { ProjectFormat, ProjectShape } from "./project-shape.js";

/** Everything a driver needs to run one deployment. */
export interface DeploymentSpec {
  readonly name: string;
  /** The project text as given. */
  readonly project: string;
  readonly projectFormat: ProjectFormat;
  readonly model: ProjectShape;
  readonly settings: CompiledDeploymentSettings;
  /** Worker replicas to run, within the settings' min and max. */
  readonly replicas: number;
}

/** A scaling decision and why it was made. */
export interface ScalingRecord {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly atMs: number;
}

/** One worker as a driver sees it. */
export interface DriverWorker {
  readonly id: string;
  /** `host:port`, empty until the worker registered. */
  readonly address: string;
  /** Process id where the driver runs it locally. */
  readonly pid?: number;
  readonly ready: boolean;
  /** Times the driver restarted it after a crash. */
  readonly restarts?: number;
}

/** The running state of one deployment. */
export interface DriverStatus {
  readonly replicasDesired: number;
  readonly replicasReady: number;
  readonly workers: readonly DriverWorker[];
  /** Where clients reach the deployment's balancer; empty when none runs. */
  readonly balancerAddress: string;
  readonly lastScaling?: ScalingRecord;
}

/** What the control plane hands a driver when it creates it. */
export interface DriverContext {
  /** `host:port` of the RegistryService workers register with (the control plane itself). */
  readonly registryAddress: string;
  /** The current membership of a deployment's workers, from that registry. */
  membership(deployment: string): MembershipSnapshot;
  /** Called when the driver changed a deployment's replicas on its own (autoscaling). */
  onScaled(deployment: string, replicas: number): void;
  readonly logger: Logger;
}

/** Runs deployments somewhere: local processes, or Kubernetes objects. */
export interface Driver {
  /** Starts a deployment, or brings a running one in line with `spec`. */
  apply(spec: DeploymentSpec): Promise<void>;
  /** Stops a deployment and removes what it left. */
  remove(name: string): Promise<void>;
  /** Sets the worker count (the caller keeps it within min and max). */
  scale(name: string, replicas: number, reason: string): Promise<void>;
  /** The deployment's running state, or undefined when the driver does not run it. */
  status(name: string): Promise<DriverStatus | undefined>;
  /** Stops every deployment it runs. */
  stop(): Promise<void>;
}

/** Builds a driver once the control plane knows its own address. */
export type DriverFactory = (context: DriverContext) => Driver;
