import { addService, bindServer, ControlService, RegistryService, shutdownServer } from "@espmesh/proto";
import { createRegistryServiceImpl, LeaseTable, type LeaseTableOptions } from "@espmesh/registry";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { DeploymentManager } from "./deployment-manager.js";
import { createMemoryDeploymentStore, type DeploymentStore } from "./deployment-store.js";
import type { Driver, DriverFactory } from "./driver.js";
import { createFileDeploymentStore } from "./file-deployment-store.js";
import { localDriver } from "./local/local-driver.js";
import { engineProjectLoader, type ProjectLoader } from "./project-shape.js";
import { createRedisDeploymentStore } from "./redis-deployment-store.js";

/** Where deployments persist. */
export type DeploymentStoreOption =
  | { kind: "memory" }
  | { kind: "file"; path: string }
  | { kind: "redis"; url: string; key?: string }
  | { kind: "custom"; store: DeploymentStore };

/** Options of {@link createControlPlane}. */
export interface ControlPlaneOptions {
  /** `host:port` of the gRPC server (ControlService and RegistryService). @default "127.0.0.1:0" */
  address?: string;
  /** @default { kind: "memory" } */
  store?: DeploymentStoreOption;
  /** What runs the deployments. @default localDriver() */
  driver?: DriverFactory;
  /** Turns project text into a model. @default loadProject of @espmesh/engine */
  loadProject?: ProjectLoader;
  /** Leases of the RegistryService workers register with. @default LeaseTable defaults */
  leases?: LeaseTableOptions;
  /** Ask workers (Health: shards) and balancers (Stats: events/s, in flight, shard moves, lag) in status calls. @default true */
  probeWorkers?: boolean;
  /**
   * Workers of a deployment whose settings name neither minReplicas nor maxReplicas
   * (`espmesh up --workers N`). @default 1
   */
  defaultReplicas?: number;
  /** @default no-op */
  logger?: Logger;
}

/** The control plane: the Control gRPC API over stored deployments and a driver. */
export interface ControlPlane {
  /** `host:port` it serves on (after `start`). */
  readonly address: string;
  /** The deployments, for in-process callers (the embedded mode). */
  readonly deployments: DeploymentManager;
  /** The worker leases of the RegistryService it hosts. */
  readonly leases: LeaseTable;
  /** Binds the server, then restarts every stored deployment. */
  start(): Promise<void>;
  /** Stops the driver's deployments (they stay stored) and the server. */
  stop(): Promise<void>;
}

async function openStore(option: DeploymentStoreOption): Promise<DeploymentStore> {
  switch (option.kind) {
    case "memory":
      return createMemoryDeploymentStore();
    case "file":
      return createFileDeploymentStore(option.path);
    case "redis":
      return createRedisDeploymentStore(
        option.key === undefined ? { url: option.url } : { url: option.url, key: option.key },
      );
    case "custom":
      return option.store;
  }
}

/**
 * Creates the control plane: Deploy/Update/Delete/Get/List/Scale over gRPC, deployments
 * validated against their project and persisted (Redis, or a file in the embedded mode), run
 * by a driver; it also serves the RegistryService that local workers register with.
 */
export function createControlPlane(options: ControlPlaneOptions = {}): ControlPlane {
  const logger = (options.logger ?? noopLogger).child({ component: "control-plane" });
  const leases = new LeaseTable({ ...options.leases, logger });
  const server = new grpc.Server();
  let address = "";
  let store: DeploymentStore | undefined;
  let driver: Driver | undefined;
  let manager: DeploymentManager | undefined;
  const running = (): DeploymentManager => {
    if (manager === undefined) throw new MeshError("UNAVAILABLE", "the control plane is not started");
    return manager;
  };

  addService(server, RegistryService, createRegistryServiceImpl(leases));
  addService(server, ControlService, {
    deploy: async (request) => running().deploy(request.name, request.project, request.settingsJson),
    update: async (request) => ({
      status: await running().update(request.name, request.project, request.settingsJson),
    }),
    delete: async (request) => {
      await running().delete(request.name);
      return {};
    },
    get: async (request) => ({ status: await running().get(request.name) }),
    list: async () => ({ deployments: await running().list() }),
    scale: async (request) => ({ status: await running().scale(request.name, request.replicas) }),
  });

  return {
    get address() {
      return address;
    },
    get deployments() {
      return running();
    },
    leases,
    async start() {
      const requested = options.address ?? "127.0.0.1:0";
      const port = await bindServer(server, requested);
      address = `${requested.slice(0, requested.lastIndexOf(":"))}:${port}`;
      store = await openStore(options.store ?? { kind: "memory" });
      const current = { manager: undefined as DeploymentManager | undefined };
      driver = (options.driver ?? localDriver())({
        registryAddress: address,
        membership: (deployment) => leases.membership(deployment),
        onScaled: (deployment, replicas) => current.manager?.scaled(deployment, replicas),
        logger,
      });
      manager = new DeploymentManager({
        store,
        driver,
        load: options.loadProject ?? engineProjectLoader,
        logger,
        probe: options.probeWorkers ?? true,
        ...(options.defaultReplicas === undefined ? {} : { defaults: { replicas: options.defaultReplicas } }),
      });
      current.manager = manager;
      await manager.restore();
      logger.info({ address }, "control plane started");
    },
    async stop() {
      await driver?.stop();
      manager?.close();
      await shutdownServer(server);
      leases.close();
      await store?.close();
      manager = undefined;
    },
  };
}
