import { createServiceClient, RegistryService, type ServiceClient } from "@espmesh/proto";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { Backoff, type BackoffOptions, sleep } from "./backoff.js";
import type { MemberState } from "./lease-table.js";

/** Options of {@link registerWorker}. */
export interface RegisterWorkerOptions {
  /** `host:port` of the RegistryService. */
  registry: string;
  /** The deployment the worker belongs to. */
  deployment: string;
  /** The worker's stable id. */
  id: string;
  /** `host:port` of the worker's own gRPC server. */
  address: string;
  /** Whether the worker takes shards from the start. @default true */
  ready?: boolean;
  /** Lease time-to-live asked for. @default 3000 */
  ttlMs?: number;
  /** Heartbeat period. @default a third of the granted lease */
  heartbeatEveryMs?: number;
  /** Delays between retries of a failed Register or Heartbeat. @default { initialMs: 100, maxMs: 2000 } */
  backoff?: BackoffOptions;
  /** Aborting stops trying to register (the first registration then rejects with CANCELLED). */
  signal?: AbortSignal;
  /** @default no-op */
  logger?: Logger;
}

/** A worker's registration: it heartbeats until {@link WorkerRegistration.deregister}. */
export interface WorkerRegistration {
  /** The current lease id (changes when the worker had to register again). */
  readonly leaseId: string;
  /** The state last announced. */
  readonly state: MemberState;
  /** Announces a new state at once (and with every later heartbeat). */
  setState(state: Partial<MemberState>): Promise<void>;
  /** Marks the worker terminating: not ready, still serving, so it drains and gets no new shards. */
  drain(): Promise<void>;
  /** Stops heartbeating and leaves the membership at once. */
  deregister(): Promise<void>;
}

/**
 * Registers a worker with the local RegistryService and keeps its lease alive: heartbeats every
 * third of the lease, registers again when the registry forgot the lease (NOT_FOUND, e.g. after
 * the registry restarted), retries with backoff when the registry is unreachable. Resolves once
 * the first Register succeeded; rejects at once when the registry refuses the registration
 * (INVALID_ARGUMENT: no deployment, id or address).
 */
export async function registerWorker(options: RegisterWorkerOptions): Promise<WorkerRegistration> {
  const logger = (options.logger ?? noopLogger).child({ component: "registry" });
  const client: ServiceClient<typeof RegistryService> = createServiceClient(RegistryService, options.registry);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const backoff = new Backoff({ initialMs: 100, maxMs: 2000, ...options.backoff });
  const ready = options.ready ?? true;
  let state: MemberState = { ready, serving: true, terminating: false };
  let leaseId = "";
  let ttlMs = options.ttlMs ?? 3000;

  const member = () => ({ id: options.id, address: options.address, ...state });

  /** Registers; `persistent` retries with backoff until it succeeds or the registration stops. */
  const register = async (persistent = true): Promise<void> => {
    for (;;) {
      if (stop.signal.aborted) throw new MeshError("CANCELLED", `registration of worker ${options.id} was stopped`);
      try {
        const response = await client.register(
          { deployment: options.deployment, member: member(), ttlMs: options.ttlMs ?? 3000 },
          { signal: stop.signal, deadline: 5000 },
        );
        leaseId = response.leaseId;
        ttlMs = response.ttlMs;
        backoff.reset();
        return;
      } catch (error) {
        if (stop.signal.aborted) continue;
        if (!persistent || MeshError.from(error).code === "INVALID_ARGUMENT") throw MeshError.from(error);
        logger.warn(
          {
            worker: options.id,
            err: MeshError.from(error),
          },
          "worker registration failed; retrying",
        );
        await sleep(backoff.next(), stop.signal);
      }
    }
  };

  /**
   * One heartbeat. In the background loop (`persistent`) a lost lease is registered again until
   * that works, and a failure waits out the backoff; a state change makes a single attempt of each.
   */
  const heartbeat = async (persistent: boolean): Promise<void> => {
    try {
      await client.heartbeat({ leaseId, member: member() }, { signal: stop.signal, deadline: Math.max(1000, ttlMs) });
      backoff.reset();
    } catch (error) {
      if (stop.signal.aborted) return;
      const failure = MeshError.from(error);
      if (failure.code === "NOT_FOUND") {
        logger.warn({ worker: options.id }, "worker lease lost; registering again");
        await register(persistent);
        return;
      }
      logger.warn({ worker: options.id, err: failure }, "worker heartbeat failed");
      if (persistent) await sleep(backoff.next(), stop.signal);
    }
  };

  try {
    await register();
  } catch (error) {
    options.signal?.removeEventListener("abort", onOuterAbort);
    client.close();
    throw error;
  }

  const loop = (async () => {
    while (!stop.signal.aborted) {
      await sleep(options.heartbeatEveryMs ?? Math.max(20, Math.floor(ttlMs / 3)), stop.signal);
      if (stop.signal.aborted) break;
      await heartbeat(true).catch((error: unknown) => {
        if (!stop.signal.aborted) logger.warn({ err: MeshError.from(error) }, "worker heartbeat loop error");
      });
    }
  })();

  let deregistered: Promise<void> | undefined;
  const registration: WorkerRegistration = {
    get leaseId() {
      return leaseId;
    },
    get state() {
      return { ...state };
    },
    async setState(next) {
      state = { ...state, ...next };
      if (stop.signal.aborted) return;
      await heartbeat(false).catch((error: unknown) => {
        logger.warn(
          { worker: options.id, err: MeshError.from(error) },
          "announcing the worker state failed; heartbeats retry it",
        );
      });
    },
    drain() {
      return registration.setState({ ready: false, serving: true, terminating: true });
    },
    deregister() {
      deregistered ??= (async () => {
        stop.abort();
        options.signal?.removeEventListener("abort", onOuterAbort);
        await loop;
        try {
          await client.deregister({ leaseId }, { deadline: 2000 });
        } catch (error) {
          logger.warn(
            {
              worker: options.id,
              err: MeshError.from(error),
            },
            "worker deregistration failed; its lease will expire",
          );
        } finally {
          client.close();
        }
      })();
      return deregistered;
    },
  };
  return registration;
}
