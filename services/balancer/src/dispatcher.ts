import type { RouteResult } from "@espmesh/routing";
import type { MeshError } from "@espmesh/telemetry";
import { type Part, partBytes, subPart } from "./delivery.js";
import type { BalancerMetrics } from "./metrics.js";
import type { CompiledBalancerOptions } from "./options.js";
import type { WorkerLink } from "./worker-link.js";

/**
 * Routes parts of deliveries to worker links: by the deployment's shard table (`effective`,
 * shard → link slot, -1 = paused or unowned) for sharded sources, by the source's own policy for
 * the others. Rows that cannot go anywhere yet are held, in arrival order, until `flush`. Also
 * the ingress gate: `waitForRoom` holds readers back while any worker (or the held buffer) is at
 * its in-flight bound.
 */
export class Dispatcher {
  /** Live links by slot. */
  readonly links = new Map<number, WorkerLink>();
  /** Slot of the ready link of each member id. */
  readonly readySlots = new Map<string, number>();
  /** Shard → slot of the link that owns it now, -1 = nobody (rows are held). */
  readonly effective: Int32Array;
  private held: Part[] = [];
  heldEvents = 0;
  heldBytes = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly options: CompiledBalancerOptions,
    private readonly metrics: BalancerMetrics,
  ) {
    this.effective = new Int32Array(options.shardCount).fill(-1);
  }

  /** Whether ingress may read another batch: every live link and the held buffer under their bounds. */
  hasRoom(): boolean {
    const { maxInFlightEvents, maxInFlightBytes } = this.options;
    if (this.heldEvents >= maxInFlightEvents || this.heldBytes >= maxInFlightBytes) return false;
    for (const link of this.links.values()) {
      if (link.inflightEvents >= maxInFlightEvents || link.inflightBytes >= maxInFlightBytes) return false;
    }
    return true;
  }

  /** Resolves when {@link hasRoom} (or the signal aborts). */
  async waitForRoom(signal: AbortSignal): Promise<void> {
    while (!this.hasRoom() && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** Wakes readers waiting for room (they check again). */
  roomChanged(): void {
    if (this.waiters.length === 0 || !this.hasRoom()) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /** Routes a part (a whole new delivery or a part coming back from a lost link or the held buffer). */
  dispatch(part: Part): void {
    const result = this.route(part);
    const selections = result.selections;
    part.delivery.split(selections.length + (result.held === undefined ? 0 : 1));
    for (const selection of selections) {
      const link = this.links.get(selection.target);
      const piece = subPart(part, selection.rows, selection.count, selection.whole);
      if (link === undefined || link.state !== "ready") {
        // A multicast copy for a worker that is gone is not owed to anyone; held, it would be
        // multicast again to the workers that already have it.
        if (part.source.policy.name === "multicast") part.delivery.partDone();
        else this.hold(piece);
      } else {
        link.send(piece);
        this.metrics.eventsOut.add(piece.count, { window: part.source.name });
      }
    }
    if (result.held !== undefined) {
      const held = result.held;
      this.hold(subPart(part, held.rows, held.count, held.whole));
    }
  }

  private route(part: Part): RouteResult {
    const { source } = part;
    const rows = part.rows;
    const batch = { length: part.message.count };
    if (source.usesShardTable) {
      return source.policy.route(batch, {
        owners: this.effective,
        shards: part.shards!,
        ...(rows === undefined ? {} : { rows }),
      });
    }
    const policy = source.policy;
    const slots = policy.members.map((id) => this.readySlots.get(id) ?? -1);
    const loads = policy.sharded ? slots.map((slot) => this.links.get(slot)?.inflightEvents ?? 0) : undefined;
    const result = policy.route(batch, {
      ...(part.shards === undefined ? {} : { shards: part.shards }),
      ...(rows === undefined ? {} : { rows }),
      ...(loads === undefined ? {} : { loads }),
    });
    return {
      selections: result.selections.map((selection) => ({ ...selection, target: slots[selection.target] ?? -1 })),
      held: result.held,
    };
  }

  private hold(part: Part): void {
    this.held.push(part);
    this.heldEvents += part.count;
    this.heldBytes += partBytes(part);
  }

  /** Routes every held part again, oldest first; what still has nowhere to go stays held in order. */
  flush(): void {
    if (this.held.length === 0) return;
    const parts = this.held;
    this.held = [];
    this.heldEvents = 0;
    this.heldBytes = 0;
    for (const part of parts) this.dispatch(part);
    this.roomChanged();
  }

  /**
   * A link is gone: its shards lose their owner and its uncommitted parts go back, ahead of
   * everything held, to be re-sent to the new owners. A multicast copy is dropped when other
   * workers got the batch.
   */
  linkLost(link: WorkerLink, parts: readonly Part[], _reason: MeshError): void {
    this.links.delete(link.slot);
    if (this.readySlots.get(link.id) === link.slot) this.readySlots.delete(link.id);
    const effective = this.effective;
    for (let s = 0; s < effective.length; s++) if (effective[s] === link.slot) effective[s] = -1;
    const back: Part[] = [];
    let events = 0;
    let bytes = 0;
    const othersLive = [...this.links.values()].some((other) => other.state === "ready");
    for (const part of parts) {
      if (part.source.policy.name === "multicast" && othersLive) {
        part.delivery.partDone();
        continue;
      }
      back.push(part);
      events += part.count;
      bytes += partBytes(part);
    }
    this.held = back.concat(this.held);
    this.heldEvents += events;
    this.heldBytes += bytes;
    this.flush();
  }

  /** Drops every held part (the balancer is stopping); their origins are never answered. */
  clear(): void {
    this.held = [];
    this.heldEvents = 0;
    this.heldBytes = 0;
    this.roomChanged();
  }
}
