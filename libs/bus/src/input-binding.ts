import type { Batch } from "@espmesh/events";
import { type Logger, MeshError } from "@espmesh/telemetry";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { Match } from "@nats-io/transport-node";
import { type Bus, type BusInternals, busInternals } from "./bus.js";
import { CONTENT_TYPE_HEADER } from "./content-type.js";
import { DeliveryTracker } from "./delivery-tracker.js";
import { type DurableSpec, durableInfo, openDurable, repositionDurable } from "./durable-consumer.js";
import { createInputDecoder, type InputDecoder } from "./input-decoder.js";
import {
  type CompiledInputBindingOptions,
  compileInputBindingOptions,
  type InputBindingOptions,
} from "./input-options.js";
import { type ConsumerLag, rejectedMessages, watchLag } from "./lag-metric.js";
import { backoffDelay, pause } from "./retry.js";

/** One message of an input binding: a batch for the bound source window and its origin. */
export interface InputMessage {
  /** The message's events, in the binding's schema. */
  readonly batch: Batch;
  /**
   * Where the batch entered the mesh: `sourceId` is `js:<stream>:<durable>`, `seq` the message's
   * stream sequence (strictly increasing within one binding, see {@link InputBinding}).
   */
  readonly origin: { readonly sourceId: string; readonly seq: number };
  /** True when this message may have been handed to a reader before (redelivery or rewind). */
  readonly redelivered: boolean;
  /** Acknowledges the message: the stream will not deliver it to this durable again. Idempotent. */
  ack(): void;
  /**
   * Gives the message back: JetStream delivers it again after `delayMs` (at once when omitted), and
   * the binding hands it out again, out of stream order. See the README before using it in the mesh.
   */
  nak(delayMs?: number): void;
}

/**
 * A durable JetStream consumer read as batches: iterate it (once) for {@link InputMessage}s, ack
 * each after its events are committed.
 *
 * Ordering: a binding hands messages out in stream order, each once: the sequence numbers it
 * yields strictly increase (a message nak'ed by the reader is the one exception). A redelivery of a
 * message the reader still holds is dropped (its ack timer is kept alive while held); deliveries
 * lost in transit (a NATS restart in the middle of a pull) are detected by the consumer's delivery
 * sequence and the durable is repositioned, so a later message never overtakes a lost one. A new
 * binding rewinds the durable to its ack floor, so unacked messages of an earlier reader come first.
 * This requires the binding to be the only reader of its durable.
 */
export interface InputBinding extends AsyncIterable<InputMessage> {
  /** The origin `sourceId` of every message: `js:<stream>:<durable>`. */
  readonly sourceId: string;
  /**
   * The consumer's backlog: `pending` messages not delivered yet, `ackPending` delivered and not
   * acked yet.
   * @throws MeshError NOT_FOUND before the durable exists (it is created by the first iteration);
   * UNAVAILABLE when NATS does not answer.
   */
  lag(): Promise<ConsumerLag>;
  /** Stops reading (the iteration ends); messages already handed out can still be acked. Idempotent. */
  close(): Promise<void>;
}

class InputBindingImpl implements InputBinding {
  readonly sourceId: string;
  private readonly config: CompiledInputBindingOptions;
  private readonly bus: BusInternals;
  private readonly logger: Logger;
  private readonly spec: DurableSpec;
  private readonly decoder: InputDecoder;
  private readonly tracker = new DeliveryTracker();
  private readonly stopping = new AbortController();
  private readonly unwatchLag: () => void;
  private readonly closeHook: { remove(): void };
  private consumer: Consumer | undefined;
  private current: ConsumerMessages | undefined;
  private rewoundThrough = 0;
  private failures = 0;
  private iterated = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(bus: Bus, options: InputBindingOptions) {
    this.config = compileInputBindingOptions(options);
    this.bus = busInternals(bus);
    const { stream, durable, subject, ackWaitMs, maxAckPending, window } = this.config;
    this.sourceId = `js:${stream}:${durable}`;
    this.logger = this.bus.logger.child({ stream, durable, window });
    this.spec = { stream, durable, subject, ackWaitMs, maxAckPending };
    this.decoder = createInputDecoder(this.config.schema, window);
    this.unwatchLag = watchLag({ stream, durable }, () => this.lag());
    this.closeHook = this.bus.onClose(() => this.close());
  }

  [Symbol.asyncIterator](): AsyncIterator<InputMessage> {
    if (this.iterated) {
      throw new MeshError("FAILED_PRECONDITION", `input binding ${this.sourceId} can be iterated only once`);
    }
    this.iterated = true;
    return this.run();
  }

  async lag(): Promise<ConsumerLag> {
    const info = await durableInfo(this.bus.manager, this.spec);
    if (info === undefined) {
      throw new MeshError(
        "NOT_FOUND",
        `durable "${this.spec.durable}" on stream "${this.spec.stream}" does not exist yet`,
        {
          details: { stream: this.spec.stream, durable: this.spec.durable },
        },
      );
    }
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort();
      clearInterval(this.keepAlive);
      this.unwatchLag();
      this.closeHook.remove();
      const current = this.current;
      if (current !== undefined) this.stopFetch(current);
    })();
    return this.closing;
  }

  private async *run(): AsyncGenerator<InputMessage> {
    try {
      if (!(await this.open()) || this.stopping.signal.aborted) return;
      const period = Math.max(1, Math.floor(this.config.ackWaitMs / 3));
      this.keepAlive = setInterval(() => this.touchHeld(period), period).unref();
      while (!this.stopping.signal.aborted) {
        const fetched = await this.fetch();
        if (fetched === undefined) continue;
        let gap = false;
        try {
          for await (const msg of fetched) {
            const seq = msg.info.streamSequence;
            const verdict = this.tracker.receive(seq, msg.info.deliverySequence);
            this.failures = 0;
            if (verdict === "gap") {
              gap = true;
              break;
            }
            if (verdict === "outstanding") this.tracker.replace(seq, msg, Date.now());
            else if (verdict === "done") this.settle(() => msg.ack(), seq);
            else {
              const message = this.admit(msg);
              if (message !== undefined) yield message;
            }
            if (this.stopping.signal.aborted) break;
          }
        } catch (error) {
          await this.recover(error);
        } finally {
          this.current = undefined;
        }
        if (gap) await this.reposition("deliveries were lost in transit");
      }
    } finally {
      clearInterval(this.keepAlive);
      await this.close();
    }
  }

  /** Opens the durable, retrying while NATS is unavailable; false when closed meanwhile. */
  private async open(): Promise<boolean> {
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      try {
        const opened = await openDurable(this.bus.manager, this.spec, this.logger);
        this.consumer = this.bus.jetstream.consumers.getConsumerFromInfo(opened.info);
        this.tracker.restart(opened.info.delivered.consumer_seq, opened.ackFloor);
        this.rewoundThrough = opened.rewoundThrough;
        if (opened.rewoundThrough > 0) {
          this.logger.info({ through: opened.rewoundThrough }, "rewound the durable to its ack floor");
        }
        return true;
      } catch (error) {
        if (!(error instanceof MeshError) || error.code !== "UNAVAILABLE") throw error;
        this.logger.warn({ err: error, attempt: attempt + 1 }, "cannot open the durable yet; retrying");
        await pause(this.delay(attempt), this.stopping.signal);
      }
    }
    return false;
  }

  private async fetch(): Promise<ConsumerMessages | undefined> {
    const consumer = this.consumer;
    if (consumer === undefined) return undefined;
    try {
      const fetched = await consumer.fetch({
        max_messages: this.config.batchSize,
        expires: this.config.fetchExpiresMs,
      });
      this.current = fetched;
      if (this.stopping.signal.aborted) this.stopFetch(fetched);
      return fetched;
    } catch (error) {
      await this.recover(error);
      return undefined;
    }
  }

  /**
   * After a failed pull: back off, then, when the failure suggests the durable is gone (deleted,
   * no responders, heartbeats missed on a live connection), recreate it if it really is missing.
   * Other failures (server shutting down, disconnects) need nothing: the next pull waits for the
   * reconnect.
   */
  private async recover(error: unknown): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const attempt = this.failures++;
    this.logger.warn({ err: error, attempt: attempt + 1 }, "pull from the durable failed; retrying");
    await pause(this.delay(attempt), this.stopping.signal);
    if (this.stopping.signal.aborted || !suggestsMissingDurable(error)) return;
    try {
      if ((await durableInfo(this.bus.manager, this.spec)) === undefined)
        await this.reposition("the durable was deleted");
    } catch (checkError) {
      this.logger.debug({ err: checkError }, "cannot check the durable yet");
    }
  }

  /** Recreates the durable at the tracker's restart point, retrying while NATS is unavailable. */
  private async reposition(why: string): Promise<void> {
    const startSeq = this.tracker.restartPoint();
    this.logger.warn({ startSeq }, `${why}; repositioning the durable`);
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      try {
        const info = await repositionDurable(this.bus.manager, this.spec, startSeq, this.logger);
        this.consumer = this.bus.jetstream.consumers.getConsumerFromInfo(info);
        this.tracker.restart(info.delivered.consumer_seq);
        return;
      } catch (error) {
        if (!(error instanceof MeshError) || error.code !== "UNAVAILABLE") throw error;
        this.logger.warn({ err: error, attempt: attempt + 1 }, "cannot reposition the durable yet; retrying");
        await pause(this.delay(attempt), this.stopping.signal);
      }
    }
  }

  /**
   * Stops a pull: no more messages arrive, and the iteration over it ends at the next step. Not
   * awaited: the pull's `closed` promise settles only when its iterator is stepped again.
   */
  private stopFetch(fetched: ConsumerMessages): void {
    fetched.close().then(
      (error) => {
        if (error instanceof Error) this.logger.debug({ err: error }, "pull ended with an error");
      },
      (error: unknown) => this.logger.debug({ err: error }, "pull ended with an error"),
    );
  }

  /** Decodes a new message: an InputMessage, or undefined when it was rejected or empty. */
  private admit(msg: JsMsg): InputMessage | undefined {
    const seq = msg.info.streamSequence;
    const contentType = msg.headers?.get(CONTENT_TYPE_HEADER, Match.IgnoreCase) || undefined;
    const decoded = this.decoder.decode(contentType, msg.data);
    if (!decoded.ok) {
      rejectedMessages.add(1, { stream: this.spec.stream, durable: this.spec.durable, reason: decoded.reason });
      this.logger.warn({ seq, subject: msg.subject, err: decoded.error }, "message rejected and terminated");
      this.settle(() => msg.term(), seq);
      return undefined;
    }
    if (decoded.batch.length === 0) {
      this.settle(() => msg.ack(), seq);
      return undefined;
    }
    this.tracker.hold(seq, msg, Date.now());
    return {
      batch: decoded.batch,
      origin: { sourceId: this.sourceId, seq },
      redelivered: msg.redelivered || seq <= this.rewoundThrough,
      ack: () => {
        const handle = this.tracker.settle(seq);
        if (handle !== undefined) this.settle(() => handle.ack(), seq);
      },
      nak: (delayMs?: number) => {
        const handle = this.tracker.release(seq);
        if (handle !== undefined) this.settle(() => handle.nak(delayMs), seq);
      },
    };
  }

  /** Sends an ack, nak or term; on a closed connection it is lost and the message comes again later. */
  private settle(send: () => void, seq: number): void {
    try {
      send();
    } catch (error) {
      this.logger.warn({ seq, err: error }, "cannot send the acknowledgement; the message will be delivered again");
    }
  }

  /** Resets the ack timer of messages the reader has held for a while, so they are not redelivered. */
  private touchHeld(period: number): void {
    const now = Date.now();
    for (const handle of this.tracker.stale(now - period, now)) this.settle(() => handle.working(), 0);
  }

  private delay(attempt: number): number {
    return backoffDelay({ minMs: this.config.retryDelayMs, maxMs: this.config.maxRetryDelayMs }, attempt);
  }
}

/** Whether a pull failure may mean the durable no longer exists. */
function suggestsMissingDurable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { code?: unknown }).code === 503) return true;
  return /consumer (deleted|not found)|no responders|heartbeats missed/i.test(error.message);
}

/**
 * Binds a source window's input to a durable pull consumer (explicit ack) on a stream, created if
 * missing when the binding is first iterated. See {@link InputBinding} for ordering and
 * {@link InputBindingOptions} for the settings.
 * @throws MeshError INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when the bus is closed.
 */
export function createInputBinding(bus: Bus, options: InputBindingOptions): InputBinding {
  return new InputBindingImpl(bus, options);
}
