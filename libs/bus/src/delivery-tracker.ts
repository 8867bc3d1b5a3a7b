/** What the input binding can do with one JetStream delivery. */
export interface DeliveryHandle {
  ack(): void;
  nak(delayMs?: number): void;
  working(): void;
  term(): void;
}

/**
 * What to do with a delivery:
 * - `yield`: a message to hand to the reader (above every seq handed out so far, or one the reader
 *   nak'ed);
 * - `outstanding`: a second delivery of a message the reader holds (ack wait expired, or the
 *   consumer was repositioned); keep the newer handle, hand out nothing;
 * - `done`: a message the reader already acked (or one that was terminated); ack it again, hand out
 *   nothing;
 * - `gap`: deliveries were lost between the server and us (the delivery sequence jumped, e.g. a
 *   pull answered while the connection broke); the consumer must be repositioned at
 *   {@link DeliveryTracker.restartPoint} before anything more is handed out.
 */
export type Verdict = "yield" | "outstanding" | "done" | "gap";

interface Held {
  handle: DeliveryHandle;
  touchedAt: number;
}

/**
 * The ordering state of one input binding: which stream sequences it handed out, which the reader
 * still holds, which it nak'ed, and the consumer's delivery sequence, so that the reader sees every
 * message once, in stream order, whatever JetStream redelivers. Pure: no I/O, time passed in.
 */
export class DeliveryTracker {
  private highest = 0;
  private lastDelivery: number | undefined;
  private readonly held = new Map<number, Held>();
  private readonly nakked = new Set<number>();

  /** Highest stream sequence handed out (or terminated) so far; 0 before the first. */
  get highestSeq(): number {
    return this.highest;
  }

  /** Number of messages the reader holds (handed out, not acked or nak'ed yet). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Starts checking delivery sequences of a (new or repositioned) consumer whose last delivery
   * had `lastDeliverySeq` (0 for a fresh consumer). `settledThrough`, when given, is a stream
   * sequence up to which every message is settled (the durable's ack floor when the binding
   * opened it): deliveries at or below it are treated as already handed out and acked.
   */
  restart(lastDeliverySeq: number, settledThrough = 0): void {
    this.lastDelivery = lastDeliverySeq;
    if (settledThrough > this.highest) this.highest = settledThrough;
  }

  /** The verdict on a delivery of stream sequence `seq` with consumer delivery sequence `deliverySeq`. */
  receive(seq: number, deliverySeq: number): Verdict {
    if (this.lastDelivery !== undefined && deliverySeq > this.lastDelivery + 1) return "gap";
    this.lastDelivery = deliverySeq;
    if (this.nakked.delete(seq)) return "yield";
    if (seq > this.highest) {
      this.highest = seq;
      return "yield";
    }
    return this.held.has(seq) ? "outstanding" : "done";
  }

  /** Records that the reader holds `seq` (just handed out), acked or nak'ed through `handle`. */
  hold(seq: number, handle: DeliveryHandle, now: number): void {
    this.held.set(seq, { handle, touchedAt: now });
  }

  /** Replaces the handle of a held message with the one of a newer delivery of it. */
  replace(seq: number, handle: DeliveryHandle, now: number): void {
    const held = this.held.get(seq);
    if (held !== undefined) {
      held.handle = handle;
      held.touchedAt = now;
    }
  }

  /** Stops holding `seq` because the reader acked it; its current handle, or undefined when not held. */
  settle(seq: number): DeliveryHandle | undefined {
    const held = this.held.get(seq);
    this.held.delete(seq);
    return held?.handle;
  }

  /**
   * Stops holding `seq` because the reader nak'ed it: its next delivery is handed out again. Its
   * current handle, or undefined when not held.
   */
  release(seq: number): DeliveryHandle | undefined {
    const held = this.held.get(seq);
    if (held === undefined) return undefined;
    this.held.delete(seq);
    this.nakked.add(seq);
    return held.handle;
  }

  /**
   * Where a repositioned consumer must start so that nothing is skipped: the lowest held or
   * nak'ed sequence, else the one after the highest handed out.
   */
  restartPoint(): number {
    let point = this.highest + 1;
    for (const seq of this.held.keys()) if (seq < point) point = seq;
    for (const seq of this.nakked) if (seq < point) point = seq;
    return point;
  }

  /** Handles of held messages last touched at or before `olderThan`, marked touched at `now`. */
  stale(olderThan: number, now: number): DeliveryHandle[] {
    const handles: DeliveryHandle[] = [];
    for (const held of this.held.values()) {
      if (held.touchedAt <= olderThan) {
        held.touchedAt = now;
        handles.push(held.handle);
      }
    }
    return handles;
  }
}
