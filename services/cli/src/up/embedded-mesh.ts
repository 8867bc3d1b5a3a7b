import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type ControlPlane,
  createControlPlane,
  createFileDeploymentStore,
  createRedisDeploymentStore,
  type DeploymentStore,
  localDriver,
} from "@espmesh/control-plane";
import { createGateway, type Gateway } from "@espmesh/gateway";
import { createStateService, type StateService, type StateServiceOptions } from "@espmesh/state";
import { MeshError } from "@espmesh/telemetry";
import { childCommand } from "./child-commands.js";
import {
  type CompiledEmbeddedMeshOptions,
  compileEmbeddedMeshOptions,
  type EmbeddedMeshOptions,
} from "./mesh-options.js";

/** Where the parts of a started {@link EmbeddedMesh} listen and keep their data. */
export interface MeshEndpoints {
  /** `http://host:port` of the gateway. */
  readonly gatewayUrl: string;
  /** `host:port` of the control plane: the address of the SDK and of the mesh commands. */
  readonly controlAddress: string;
  /** `host:port` of the state service the workers commit to. */
  readonly stateAddress: string;
  /** `memory`, or the Redis URL. */
  readonly stateStore: string;
  /** The deployments file, or the Redis URL. */
  readonly deploymentStore: string;
  /** The data directory (absolute). */
  readonly dataDir: string;
}

/**
 * The whole mesh on this machine: the state service, the control plane with its local driver and
 * the gateway run in this process; each deployment's balancer and workers run as child
 * processes of it, which stop when it stops (or dies: see orphan-guard.ts).
 */
export interface EmbeddedMesh {
  /** Where everything listens; throws before `start()` resolved. */
  readonly endpoints: MeshEndpoints;
  /** Starts every part (stored deployments restart too); a failure stops what had started. */
  start(): Promise<MeshEndpoints>;
  /**
   * Stops everything: the gateway (waiting at most 5 s for requests in flight), then every
   * balancer and worker at once (SIGTERM: they drain, committing what they hold; SIGKILL after
   * `stopGraceMs`), then the state service. Idempotent.
   */
  stop(): Promise<void>;
}

/** How long `stop()` waits for the gateway's requests in flight before it moves on. */
const GATEWAY_GRACE_MS = 5000;

function stateServiceOptions(config: CompiledEmbeddedMeshOptions): StateServiceOptions {
  const common = { address: "127.0.0.1:0", logger: config.logger };
  if (config.redisUrl !== undefined) return { ...common, redisUrl: config.redisUrl };
  // The state service's memory store: window state lives in this process, for the embedded mode.
  return { ...common, store: "memory" };
}

async function openStore(config: CompiledEmbeddedMeshOptions): Promise<{ store: DeploymentStore; where: string }> {
  if (config.redisUrl !== undefined) {
    return { store: createRedisDeploymentStore({ url: config.redisUrl }), where: config.redisUrl };
  }
  const file = join(config.dataDir, "deployments.json");
  return { store: await createFileDeploymentStore(file), where: file };
}

/** Resolves when `work` settles or after `millis`, whichever comes first; never rejects. */
async function settleWithin(work: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), millis);
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates an {@link EmbeddedMesh}; nothing runs until `start()`. */
export function createEmbeddedMesh(options: EmbeddedMeshOptions = {}): EmbeddedMesh {
  const config = compileEmbeddedMeshOptions(options);
  const logger = config.logger.child({ component: "up" });
  let state: StateService | undefined;
  let plane: ControlPlane | undefined;
  let gateway: Gateway | undefined;
  let endpoints: MeshEndpoints | undefined;
  let stopping: Promise<void> | undefined;

  const stopAll = async (): Promise<void> => {
    const failures: unknown[] = [];
    const keep = (error: unknown) => {
      failures.push(error);
      logger.error({ err: MeshError.from(error) }, "stopping a part of the mesh failed");
    };
    // Ingress first, so the balancers drain with their workers still there to commit what they
    // hold; then every balancer and worker at once; the state service last, as workers commit
    // to it while they drain.
    const gatewayStopped = gateway?.stop().catch(keep);
    if (gatewayStopped !== undefined && !(await settleWithin(gatewayStopped, GATEWAY_GRACE_MS))) {
      logger.warn({ graceMs: GATEWAY_GRACE_MS }, "the gateway did not drain in time; moving on");
    }
    await plane?.stop().catch(keep);
    await state?.stop().catch(keep);
    logger.info("mesh stopped");
    if (failures.length > 0) throw MeshError.from(failures[0]);
  };

  return {
    get endpoints() {
      if (endpoints === undefined) throw new MeshError("FAILED_PRECONDITION", "the mesh is not started");
      return endpoints;
    },
    async start() {
      if (state !== undefined) throw new MeshError("FAILED_PRECONDITION", "the mesh was started already");
      try {
        await mkdir(config.dataDir, { recursive: true });
        state = createStateService(stateServiceOptions(config));
        await state.start();
        const { store, where } = await openStore(config);
        const driver = localDriver({
          workerCommand: childCommand("worker"),
          balancerCommand: childCommand("balancer"),
          stateAddress: state.address,
          workDir: join(config.dataDir, "run"),
          stopGraceMs: config.stopGraceMs,
          // Children of deployments with bindings get ESPMESH_NATS_URL from the driver.
          ...(config.natsUrl === undefined ? {} : { natsUrl: config.natsUrl }),
          env: { ESPMESH_PARENT_PID: String(process.pid) },
        });
        plane = createControlPlane({
          address: `127.0.0.1:${config.controlPort}`,
          store: { kind: "custom", store },
          driver,
          defaultReplicas: config.workers,
          logger: config.logger,
        });
        try {
          await plane.start();
        } catch (error) {
          // The control plane closes the store only once it started; here it did not.
          await store.close();
          throw new MeshError(
            "UNAVAILABLE",
            `cannot start the control plane on 127.0.0.1:${config.controlPort}: ${MeshError.from(error).message}` +
              " (is another `espmesh up` running? --control-port picks another port)",
            { cause: error },
          );
        }
        gateway = createGateway({
          address: plane.address,
          host: config.host,
          port: config.port,
          ...(config.token === undefined ? {} : { token: config.token }),
          ...(config.bodyLimit === undefined ? {} : { bodyLimit: config.bodyLimit }),
          logger: config.logger,
        });
        const listening = await gateway.start().catch((error: unknown) => {
          throw new MeshError("UNAVAILABLE", `${MeshError.from(error).message} (--port picks another port)`, {
            cause: error,
          });
        });
        endpoints = {
          gatewayUrl: `http://${listening.address}`,
          controlAddress: plane.address,
          stateAddress: state.address,
          stateStore: config.redisUrl ?? "memory",
          deploymentStore: where,
          dataDir: config.dataDir,
        };
        logger.info({ ...endpoints }, "mesh started");
        return endpoints;
      } catch (error) {
        // What did start is stopped; a failure of that is logged by stopAll, the start's failure is thrown.
        stopping ??= stopAll();
        await stopping.catch(() => undefined);
        throw MeshError.from(error);
      }
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}
