/**
 * A real mesh for one deployment on this machine, for cross-service tests and benchmarks:
 * throwaway Redis, the state service, the local registry, worker *processes* (so a test can
 * `kill -9` one) and the balancer. Everything listens on 127.0.0.1 and stops with `stop()`.
 * With `natsUrl` and `settings.bindings` it is one stage of a cascade (DESIGN §9): bound outputs
 * are published by the workers, bound sources read by the balancer.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Balancer, createBalancer, type SourceWindowOptions } from "@espmesh/balancer";
import { createLocalRegistry, createLocalRegistryServer, type LocalRegistryServer } from "@espmesh/registry";
import { createStateService, type StateService } from "@espmesh/state";
import { type RedisServer, startRedis } from "@espmesh/testing";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const workerMain = join(root, "services/worker/src/main.ts");

/** A worker process of the mesh. */
export interface WorkerProcess {
  readonly id: string;
  readonly pid: number;
  readonly address: string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Options of {@link startLocalMesh}. */
export interface LocalMeshOptions {
  project: string;
  /** Project text (ESP XML or YAML). */
  projectText: string;
  /** Deployment settings JSON as the control plane defines them. */
  settings: {
    routing?: Record<string, { policy: string; hashFields?: string[] }>;
    state?: "service" | "none";
    bindings?: {
      outputs?: Record<string, { subject: string; stream?: string }>;
      inputs?: Record<string, { stream: string; subject?: string; durable: string }>;
    };
  } & Record<string, unknown>;
  /** Source windows the balancer accepts, with schemas. */
  sources: readonly SourceWindowOptions[];
  workers: number;
  /** "redis" = the state service over a throwaway Redis; "memory" = state inside each worker. @default "redis" */
  state?: "redis" | "memory";
  shardCount?: number;
  checkpointIntervalMs?: number;
  /** NATS for the settings' bindings (workers get ESPMESH_NATS_URL, the balancer `natsUrl`). @default none */
  natsUrl?: string;
  /** A Redis to use (and leave running) instead of starting one; stages of a cascade can share it. @default none */
  redis?: RedisServer;
}

/** A running local mesh. */
export interface LocalMesh {
  readonly balancerAddress: string;
  /** The local registry the workers register with (for a balancer run as its own process). */
  readonly registryAddress: string;
  readonly workers: WorkerProcess[];
  readonly redis: RedisServer | undefined;
  /** The in-process balancer (its stats and input lag). */
  readonly balancer: Balancer;
  startWorker(id?: string): Promise<WorkerProcess>;
  stop(): Promise<void>;
}

/** Starts a {@link LocalMesh}. */
export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const dir = mkdtempSync(join(tmpdir(), "espmesh-mesh-"));
  const projectFile = join(dir, "project.xml");
  writeFileSync(projectFile, options.projectText);
  const settings = {
    ...options.settings,
    ...(options.shardCount ? { shards: options.shardCount } : {}),
    ...(options.checkpointIntervalMs ? { checkpointIntervalMs: options.checkpointIntervalMs } : {}),
  };
  let redis: RedisServer | undefined;
  let ownRedis = false;
  let state: StateService | undefined;
  if ((options.state ?? "redis") === "redis" && settings.state !== "none") {
    redis = options.redis;
    if (redis === undefined) {
      redis = await startRedis();
      ownRedis = true;
    }
    state = createStateService({ redisUrl: redis.url, address: "127.0.0.1:0" });
    await state.start();
  }
  const registry: LocalRegistryServer = await createLocalRegistryServer({ defaultTtlMs: 1500 });
  const workers: WorkerProcess[] = [];
  const children: ChildProcess[] = [];
  let counter = 0;

  const startWorker = async (id = `worker-${++counter}`): Promise<WorkerProcess> => {
    const child = spawn(process.execPath, ["--import", "tsx", workerMain], {
      cwd: root,
      env: {
        ...process.env,
        ESPMESH_WORKER_ID: id,
        ESPMESH_PROJECT: options.project,
        ESPMESH_PROJECT_FILE: projectFile,
        ESPMESH_SETTINGS: JSON.stringify(settings),
        ESPMESH_REGISTRY_ADDRESS: registry.address,
        ...(state ? { ESPMESH_STATE_ADDRESS: state.address } : {}),
        ...(options.natsUrl ? { ESPMESH_NATS_URL: options.natsUrl } : {}),
        ESPMESH_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const exited = new Promise<number | string>((resolveExit) =>
      child.once("exit", (code, signal) => resolveExit(code ?? signal ?? "unknown")),
    );
    const address = await new Promise<string>((resolveAddress, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`worker ${id} did not start within 30 s`)), 30_000);
      lines.on("line", (line) => {
        try {
          const entry = JSON.parse(line) as { event?: string; address?: string };
          if (entry.event === "listening" && entry.address) {
            clearTimeout(timer);
            resolveAddress(entry.address);
          }
        } catch {
          // not a log line of ours
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`worker ${id} exited (${code}) before it was ready`));
      });
    });
    const worker: WorkerProcess = {
      id,
      pid: child.pid!,
      address,
      exited,
      kill: (signal = "SIGKILL") => child.kill(signal),
    };
    workers.push(worker);
    return worker;
  };

  await Promise.all(Array.from({ length: options.workers }, () => startWorker()));
  const inputs = settings.bindings?.inputs ?? {};
  const membership = createLocalRegistry({ address: registry.address, deployment: options.project });
  const balancer: Balancer = createBalancer({
    deployment: {
      project: options.project,
      sources: options.sources.map((source) =>
        source.input === undefined && inputs[source.name] !== undefined
          ? { ...source, input: inputs[source.name]! }
          : source,
      ),
      ...(options.shardCount ? { shardCount: options.shardCount } : {}),
    },
    membership,
    listen: "127.0.0.1:0",
    ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
  });
  let port: number;
  try {
    ({ port } = await balancer.start());
  } catch (error) {
    await membership.close();
    for (const child of children) child.kill("SIGKILL");
    await registry.stop();
    await state?.stop();
    if (ownRedis) await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    balancerAddress: `127.0.0.1:${port}`,
    registryAddress: registry.address,
    workers,
    redis,
    balancer,
    startWorker,
    async stop() {
      await balancer.stop();
      await membership.close();
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await registry.stop();
      await state?.stop();
      if (ownRedis) await redis?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
