import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BackoffOptions } from "@espmesh/registry";
import { MeshError } from "@espmesh/telemetry";
import type { DeploymentSpec, Driver, DriverContext, DriverFactory } from "../driver.js";
import { balancerEnvironment, workerEnvironment } from "../process-environment.js";
import type { CpuTimeReader } from "./cpu-meter.js";
import { LocalDeployment } from "./local-deployment.js";
import type { ProcessCommand } from "./supervised-process.js";

/**
 * Options of {@link localDriver}.
 *
 * Children get their configuration from the environment, as their entry points read it (see
 * process-environment.ts): workers get ESPMESH_WORKER_ID (`<deployment>-worker-<slot>`, stable
 * across restarts), ESPMESH_PROJECT/ESPMESH_DEPLOYMENT, ESPMESH_PROJECT_FILE, ESPMESH_SETTINGS
 * (the compiled settings JSON), ESPMESH_WORKER_ADDRESS (`127.0.0.1:0`: they register the address
 * they bound), ESPMESH_REGISTRY_ADDRESS (the control plane's RegistryService) and
 * ESPMESH_STATE_ADDRESS; the balancer gets ESPMESH_DEPLOYMENT_JSON (source windows, schemas,
 * routing, shard count), ESPMESH_BALANCER_ADDRESS (a fixed `127.0.0.1:PORT`), ESPMESH_BALANCER_ID
 * and ESPMESH_REGISTRY_ADDRESS (to watch the workers). Deployments with bindings also get
 * ESPMESH_NATS_URL (`natsUrl`).
 */
export interface LocalDriverOptions {
  /** @default node --import tsx services/worker/src/main.ts */
  workerCommand?: ProcessCommand;
  /** `null` runs no balancer. @default node --import tsx services/balancer/src/main.ts */
  balancerCommand?: ProcessCommand | null;
  /** Extra environment for every child. @default {} */
  env?: Record<string, string>;
  /** Where project files are written. @default <tmpdir>/espmesh-<pid> */
  workDir?: string;
  /** `host:port` of the state service, passed to children. @default none */
  stateAddress?: string;
  /** NATS URL passed to the children of deployments with bindings (ESPMESH_NATS_URL). @default none */
  natsUrl?: string;
  /** How often the HPA rule runs. @default 15000 */
  syncPeriodMs?: number;
  /** Scale-down stabilisation window. @default 300000 */
  scaleDownStabilizationMs?: number;
  /** HPA tolerance. @default 0.1 */
  tolerance?: number;
  /** Reads a child's CPU time. @default /proc/<pid>/stat */
  cpuTimeReader?: CpuTimeReader;
  /** Delays before restarting a crashed child. @default { initialMs: 200, maxMs: 5000 } */
  restartBackoff?: BackoffOptions;
  /** SIGTERM-to-SIGKILL grace when stopping a child. @default 10000 */
  stopGraceMs?: number;
  /** Children write to this process's stdout/stderr (the embedded mode) instead of the logger. @default false */
  inheritOutput?: boolean;
}

function entryPoint(service: "worker" | "balancer"): ProcessCommand {
  const file = fileURLToPath(new URL(`../../../${service}/src/main.ts`, import.meta.url));
  // tsx resolved from here, so children start from any working directory.
  return { command: process.execPath, args: ["--import", import.meta.resolve("tsx"), file] };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

function sameRun(a: DeploymentSpec, b: DeploymentSpec): boolean {
  return a.project === b.project && JSON.stringify(a.settings) === JSON.stringify(b.settings);
}

/**
 * The local driver: runs each deployment as processes on this machine (a balancer and its
 * workers), restarts crashed ones, and autoscales workers with the HPA rule on their CPU.
 */
export function localDriver(options: LocalDriverOptions = {}): DriverFactory {
  return (context: DriverContext): Driver => {
    const logger = context.logger.child({ component: "local-driver" });
    const workDir = options.workDir ?? join(tmpdir(), `espmesh-${process.pid}`);
    const workerCommand = options.workerCommand ?? entryPoint("worker");
    const balancerCommand =
      options.balancerCommand === null ? undefined : (options.balancerCommand ?? entryPoint("balancer"));
    const deployments = new Map<string, LocalDeployment>();
    const balancerPorts = new Map<string, number>();

    const start = async (spec: DeploymentSpec): Promise<LocalDeployment> => {
      if (spec.settings.bindings !== undefined && options.natsUrl === undefined) {
        throw new MeshError(
          "FAILED_PRECONDITION",
          `deployment ${spec.name} has bindings, which need NATS: start "espmesh up" with --nats URL, or give the control plane ESPMESH_NATS_URL`,
          { details: { field: "bindings" } },
        );
      }
      const directory = join(workDir, spec.name);
      await mkdir(directory, { recursive: true });
      const projectFile = join(directory, `project.${spec.projectFormat}`);
      await writeFile(projectFile, spec.project, "utf8");
      let port = balancerPorts.get(spec.name);
      if (port === undefined) {
        port = await freeLoopbackPort();
        balancerPorts.set(spec.name, port);
      }
      const balancerAddress = `127.0.0.1:${port}`;
      const deployment = new LocalDeployment({
        spec,
        workerCommand,
        balancerCommand,
        balancerAddress,
        env: (role, id) => {
          const placement = {
            id,
            registryAddress: context.registryAddress,
            ...(options.stateAddress === undefined ? {} : { stateAddress: options.stateAddress }),
            ...(options.natsUrl === undefined ? {} : { natsUrl: options.natsUrl }),
          };
          return {
            ...options.env,
            ...(role === "balancer"
              ? balancerEnvironment(spec, { ...placement, address: balancerAddress })
              : workerEnvironment(spec, projectFile, { ...placement, address: "127.0.0.1:0" })),
          };
        },
        membership: () => context.membership(spec.name),
        onScaled: (replicas) => context.onScaled(spec.name, replicas),
        cpuTimeReader: options.cpuTimeReader,
        syncPeriodMs: options.syncPeriodMs ?? 15_000,
        scaleDownStabilizationMs: options.scaleDownStabilizationMs ?? 300_000,
        tolerance: options.tolerance ?? 0.1,
        restartBackoff: options.restartBackoff ?? {},
        stopGraceMs: options.stopGraceMs ?? 10_000,
        inheritOutput: options.inheritOutput ?? false,
        logger,
      });
      deployment.start();
      return deployment;
    };

    return {
      async apply(spec) {
        const running = deployments.get(spec.name);
        if (running !== undefined && sameRun(running.spec, spec)) {
          running.scale(spec.replicas, "deployment updated");
          return;
        }
        if (running !== undefined) {
          deployments.delete(spec.name);
          await running.stop();
        }
        deployments.set(spec.name, await start(spec));
      },
      async remove(name) {
        const running = deployments.get(name);
        deployments.delete(name);
        balancerPorts.delete(name);
        await running?.stop();
        await rm(join(workDir, name), { recursive: true, force: true });
      },
      async scale(name, replicas, reason) {
        const running = deployments.get(name);
        if (running === undefined) throw new MeshError("NOT_FOUND", `deployment ${name} is not running`);
        running.scale(replicas, reason);
      },
      async status(name) {
        return deployments.get(name)?.status();
      },
      async stop() {
        const all = [...deployments.values()];
        deployments.clear();
        await Promise.all(all.map((deployment) => deployment.stop()));
      },
    };
  };
}
