import { randomUUID } from "node:crypto";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { SnapshotHub } from "./snapshot-hub.js";
import type { Member, MembershipSnapshot } from "./types.js";

/** Options of a {@link LeaseTable}. */
export interface LeaseTableOptions {
  /** Lease time-to-live when a worker asks for none. @default 3000 */
  defaultTtlMs?: number;
  /** Longest lease granted; longer requests are cut to it. @default 60000 */
  maxTtlMs?: number;
  /** Shortest lease granted; shorter requests are raised to it. @default 100 */
  minTtlMs?: number;
  /** How often expired leases are looked for. @default min(250, defaultTtlMs / 4) */
  sweepEveryMs?: number;
  /** @default no-op */
  logger?: Logger;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** The state of a member that a heartbeat may change. */
export interface MemberState {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

interface Lease {
  id: string;
  deployment: string;
  member: Member;
  ttlMs: number;
  expiresAt: number;
}

/**
 * Worker leases per deployment, the model behind the local RegistryService: a worker registers
 * (one lease per member id; registering again replaces the old lease), heartbeats to renew, and
 * is removed when it deregisters or its lease runs out. Each deployment's membership is
 * published as snapshots.
 */
export class LeaseTable {
  readonly #leases = new Map<string, Lease>();
  readonly #hubs = new Map<string, SnapshotHub>();
  readonly #defaultTtlMs: number;
  readonly #maxTtlMs: number;
  readonly #minTtlMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: LeaseTableOptions = {}) {
    this.#defaultTtlMs = options.defaultTtlMs ?? 3000;
    this.#maxTtlMs = options.maxTtlMs ?? 60_000;
    this.#minTtlMs = options.minTtlMs ?? 100;
    if (this.#minTtlMs > this.#maxTtlMs) {
      throw new MeshError("INVALID_ARGUMENT", "lease table: `minTtlMs` is greater than `maxTtlMs`");
    }
    this.#logger = (options.logger ?? noopLogger).child({ component: "registry" });
    this.#now = options.now ?? Date.now;
    const every = options.sweepEveryMs ?? Math.max(10, Math.min(250, Math.floor(this.#defaultTtlMs / 4)));
    this.#sweeper = setInterval(() => this.sweep(), every);
    this.#sweeper.unref();
  }

  /** Grants a lease to `member` in `deployment`; returns its id and time-to-live. */
  register(deployment: string, member: Member, ttlMs = 0): { leaseId: string; ttlMs: number } {
    if (deployment === "") throw new MeshError("INVALID_ARGUMENT", "register: `deployment` is required");
    if (member.id === "") throw new MeshError("INVALID_ARGUMENT", "register: `member.id` is required");
    if (member.address === "") {
      throw new MeshError("INVALID_ARGUMENT", `register: member ${member.id} has no address`);
    }
    for (const lease of this.#leases.values()) {
      if (lease.deployment === deployment && lease.member.id === member.id) this.#leases.delete(lease.id);
    }
    const granted = Math.min(this.#maxTtlMs, Math.max(this.#minTtlMs, ttlMs === 0 ? this.#defaultTtlMs : ttlMs));
    const lease: Lease = {
      id: randomUUID(),
      deployment,
      member: { ...member },
      ttlMs: granted,
      expiresAt: this.#now() + granted,
    };
    this.#leases.set(lease.id, lease);
    this.#logger.info({ deployment, member: member.id, address: member.address }, "worker registered");
    this.#publish(deployment);
    return { leaseId: lease.id, ttlMs: granted };
  }

  /** Renews a lease and records the member's state; NOT_FOUND when the lease is unknown or expired. */
  heartbeat(leaseId: string, state?: MemberState): void {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) {
      throw new MeshError("NOT_FOUND", `lease ${leaseId} is unknown or expired; register again`);
    }
    lease.expiresAt = this.#now() + lease.ttlMs;
    if (state !== undefined) {
      lease.member = { ...lease.member, ready: state.ready, serving: state.serving, terminating: state.terminating };
      this.#publish(lease.deployment);
    }
  }

  /** Ends a lease at once; unknown leases are ignored. */
  deregister(leaseId: string): void {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return;
    this.#leases.delete(leaseId);
    this.#logger.info({ deployment: lease.deployment, member: lease.member.id }, "worker deregistered");
    this.#publish(lease.deployment);
  }

  /** Removes expired leases (called on a timer; public for tests). */
  sweep(): void {
    const now = this.#now();
    const touched = new Set<string>();
    for (const lease of this.#leases.values()) {
      if (lease.expiresAt <= now) {
        this.#leases.delete(lease.id);
        touched.add(lease.deployment);
        this.#logger.warn({ deployment: lease.deployment, member: lease.member.id }, "worker lease expired");
      }
    }
    for (const deployment of touched) this.#publish(deployment);
  }

  /** The current membership of a deployment (an empty one if nobody registered). */
  membership(deployment: string): MembershipSnapshot {
    return this.#hub(deployment).current as MembershipSnapshot;
  }

  /** Snapshots of a deployment's membership, the current one first. */
  watch(deployment: string, signal?: AbortSignal): AsyncIterable<MembershipSnapshot> {
    return this.#hub(deployment).watch(signal);
  }

  /** Stops the sweeper and ends every watch. */
  close(): void {
    clearInterval(this.#sweeper);
    for (const hub of this.#hubs.values()) hub.close();
  }

  #hub(deployment: string): SnapshotHub {
    let hub = this.#hubs.get(deployment);
    if (hub === undefined) {
      hub = new SnapshotHub();
      hub.publish(this.#members(deployment));
      this.#hubs.set(deployment, hub);
    }
    return hub;
  }

  #members(deployment: string): Member[] {
    const members: Member[] = [];
    for (const lease of this.#leases.values()) if (lease.deployment === deployment) members.push(lease.member);
    return members;
  }

  #publish(deployment: string): void {
    this.#hub(deployment).publish(this.#members(deployment));
  }
}
