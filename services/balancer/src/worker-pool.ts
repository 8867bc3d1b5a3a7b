import type * as pb from "@espmesh/proto";
import { Backoff, type Member, type MembershipSnapshot } from "@espmesh/registry";
import { createWeightCache, moduloOwners, rendezvousOwners, sortMemberIds } from "@espmesh/routing";
import { MeshError } from "@espmesh/telemetry";
import type { Part } from "./delivery.js";
import type { Dispatcher } from "./dispatcher.js";
import type { BalancerMetrics } from "./metrics.js";
import type { CompiledBalancerOptions } from "./options.js";
import { type LinkEvents, WorkerLink } from "./worker-link.js";

/**
 * The workers as the balancer sees them: one link per member, reconnected with backoff when its
 * stream breaks, and the deployment's shard ownership kept in line with the ready members.
 * Changes are applied one step at a time; a step that moves shards pauses only those shards:
 * the old owners release them (commit and forget) under a new epoch, then the new owners
 * acquire them and the held rows flow again. A lost worker's shards are acquired by their new
 * owners directly and its uncommitted parts are re-sent to them.
 */
export class WorkerPool implements LinkEvents {
  /** The current link of each member id. */
  private readonly byId = new Map<string, WorkerLink>();
  private readonly retries = new Map<string, { backoff: Backoff; notBefore: number; timer?: NodeJS.Timeout }>();
  private readonly weights;
  private snapshot: MembershipSnapshot | undefined;
  private nextSlot = 0;
  private epoch = 0;
  /** 1 for every shard that has had an owner: only a shard that had one can move. */
  private readonly owned: Uint8Array;
  private dirty = false;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Called whenever a link becomes ready (subscriptions pick up new workers). */
  readonly readyListeners = new Set<(link: WorkerLink) => void>();

  constructor(
    private readonly options: CompiledBalancerOptions,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: BalancerMetrics,
  ) {
    this.weights = createWeightCache(options.shardCount);
    this.owned = new Uint8Array(options.shardCount);
  }

  /** Ready links in member id order. */
  readyLinks(): WorkerLink[] {
    return [...this.byId.values()].filter((link) => link.state === "ready").sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** A new membership snapshot. */
  update(snapshot: MembershipSnapshot): void {
    this.snapshot = snapshot;
    this.schedule();
  }

  /** Resolves when no step is running or due. */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Closes every link; nothing is re-routed afterwards. */
  stop(): void {
    this.stopped = true;
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    for (const link of [...this.byId.values()]) link.close(new MeshError("CANCELLED", "the balancer is stopping"));
  }

  private schedule(): void {
    this.dirty = true;
    if (this.running !== undefined || this.stopped) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.step();
      } catch (error) {
        this.options.logger.error({ err: MeshError.from(error) }, "membership step failed");
      }
    }
  }

  private async step(): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === undefined) return;
    const members = new Map<string, Member>(snapshot.members.map((member) => [member.id, member]));
    for (const [id, link] of this.byId) {
      const member = members.get(id);
      if (member === undefined || member.address !== link.address || !(member.serving || member.ready)) {
        link.close(new MeshError("UNAVAILABLE", `worker ${id} left the membership`));
      }
    }
    for (const [id, retry] of this.retries) {
      if (members.has(id)) continue;
      clearTimeout(retry.timer);
      this.retries.delete(id);
    }
    const now = performance.now();
    for (const member of snapshot.members) {
      if (this.byId.has(member.id) || !(member.serving || member.ready)) continue;
      if ((this.retries.get(member.id)?.notBefore ?? 0) > now) continue;
      this.connect(member);
    }
    const eligible = snapshot.members
      .filter((member) => member.ready && !member.terminating && this.byId.get(member.id)?.state === "ready")
      .map((member) => member.id);
    for (const source of this.options.sources.values()) {
      if (!source.usesShardTable) source.policy.setMembers(eligible);
    }
    if (this.options.shardPolicy !== undefined) await this.handoff(eligible);
    this.dispatcher.flush();
  }

  private connect(member: Member): void {
    const link = new WorkerLink({
      id: member.id,
      address: member.address,
      slot: this.nextSlot++,
      project: this.options.project,
      deployment: this.options.deployment,
      balancerId: this.options.balancerId,
      shardCount: this.options.shardCount,
      credentials: this.options.workerCredentials,
      logger: this.options.logger,
      events: this,
    });
    this.byId.set(member.id, link);
    this.dispatcher.links.set(link.slot, link);
    link.open();
  }

  private async handoff(eligible: readonly string[]): Promise<void> {
    const { shardCount, shardPolicy, releaseTimeoutMs, logger } = this.options;
    const ids = sortMemberIds(eligible);
    const owners =
      shardPolicy === "hash"
        ? moduloOwners(ids, shardCount)
        : rendezvousOwners(ids, this.weights.weightsOf(ids), shardCount);
    const slots = ids.map((id) => (this.byId.get(id) as WorkerLink).slot);
    const effective = this.dispatcher.effective;
    const releases = new Map<WorkerLink, number[]>();
    const acquires = new Map<number, number[]>();
    const owned = this.owned;
    let changed = 0;
    let moved = 0;
    for (let s = 0; s < shardCount; s++) {
      const owner = owners[s] as number;
      const target = owner < 0 ? -1 : (slots[owner] as number);
      const current = effective[s] as number;
      if (current === target) continue;
      changed++;
      // A shard's first owner is an assignment, not a move; one whose owner was lost does move.
      if (owned[s] === 1) moved++;
      if (target >= 0) owned[s] = 1;
      if (current >= 0) {
        effective[s] = -1;
        const link = this.dispatcher.links.get(current);
        if (link !== undefined) pushTo(releases, link, s);
      }
      if (target >= 0) pushTo(acquires, target, s);
    }
    if (changed === 0) return;
    if (moved > 0) this.metrics.shardMoves.add(moved);
    const epoch = this.nextEpoch();
    const started = performance.now();
    await Promise.all([...releases].map(([link, shards]) => link.release(shards, epoch, releaseTimeoutMs)));
    for (const [slot, shards] of acquires) {
      const link = this.dispatcher.links.get(slot);
      if (link === undefined || link.state !== "ready") continue;
      link.acquire(shards, epoch);
      for (const s of shards) effective[s] = slot;
    }
    if (releases.size > 0) this.metrics.handoffPause.record(performance.now() - started);
    logger.info({ changed, moved, epoch, members: ids.length, released: releases.size }, "shard ownership changed");
  }

  private nextEpoch(): number {
    this.epoch = Math.max(this.epoch + 1, Math.floor(this.options.now()));
    return this.epoch;
  }

  ready(link: WorkerLink): void {
    this.dispatcher.readySlots.set(link.id, link.slot);
    this.retries.get(link.id)?.backoff.reset();
    for (const listener of this.readyListeners) listener(link);
    this.schedule();
  }

  committed(_link: WorkerLink, parts: readonly Part[]): void {
    for (const part of parts) part.delivery.partDone();
    this.dispatcher.roomChanged();
  }

  badEvents(_link: WorkerLink, part: Part, events: readonly pb.BadEvent[]): void {
    const rows = part.rows;
    part.delivery.addBadEvents(events, (row) => (rows === undefined ? row : (rows[row] ?? row)));
  }

  failed(link: WorkerLink, part: Part, code: string, message: string): void {
    this.options.logger.warn({ worker: link.id, window: part.source.name, code }, message);
    part.delivery.fail(code, message);
  }

  lost(link: WorkerLink, parts: Part[], reason: MeshError): void {
    if (this.byId.get(link.id) === link) this.byId.delete(link.id);
    if (this.stopped) {
      this.dispatcher.links.delete(link.slot);
      this.dispatcher.readySlots.delete(link.id);
      return;
    }
    this.options.logger.warn({ worker: link.id, uncommitted: parts.length, err: reason }, "worker link lost");
    this.dispatcher.linkLost(link, parts, reason);
    this.dispatcher.roomChanged();
    if (this.snapshot?.members.some((member) => member.id === link.id)) {
      let retry = this.retries.get(link.id);
      if (retry === undefined) {
        retry = { backoff: new Backoff(this.options.reconnect), notBefore: 0 };
        this.retries.set(link.id, retry);
      }
      const delay = retry.backoff.next();
      retry.notBefore = performance.now() + delay;
      clearTimeout(retry.timer);
      retry.timer = setTimeout(() => this.schedule(), delay);
      retry.timer.unref();
    }
    this.schedule();
  }
}

function pushTo<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
