import { create } from "@bufbuild/protobuf";
import { type Bus, createBus, createInputBinding, type InputBinding, type InputMessage } from "@espmesh/bus";
import { createSchemaCache, encodeBatch, type SchemaCache } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { type Logger, MeshError } from "@espmesh/telemetry";
import type { DeliverySink } from "./delivery.js";
import type { CompiledSource } from "./options.js";
import { admit, type PublishContext } from "./publish.js";
import { createStoppableReader } from "./stoppable-reader.js";

/** The backlog of one input binding (DESIGN §9: lag per consumer, for autoscaling on lag). */
export interface InputLag {
  /** The source window the binding feeds. */
  readonly window: string;
  readonly stream: string;
  readonly durable: string;
  /** Messages in the stream not delivered to the balancer yet; undefined when unknown (see `error`). */
  readonly pending: number | undefined;
  /** Messages delivered and not acked yet (not committed by the workers). */
  readonly ackPending: number | undefined;
  /** Why the lag is unknown (NATS unreachable, durable not created yet). */
  readonly error?: string;
}

/** The balancer's readers of its sources' input bindings. */
export interface InputFeeds {
  /** Every binding's current lag (also exported as the gauge `espmesh_bus_consumer_lag`). */
  lag(): Promise<InputLag[]>;
  /**
   * Stops: waits for the readers (they stop reading when the balancer drains), closes the
   * bindings and flushes the acks sent. Messages read and not acked are delivered again to the
   * next reader of their durable.
   */
  close(): Promise<void>;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5000;

/**
 * Connects to NATS and starts one reader per source window with an input binding. Each message
 * goes through the path of a published batch (`admit`, then the dispatcher) with the message's
 * origin, and is acked once every worker it reached committed it; messages are read in stream
 * order and only while the workers have room. A message the workers rejected is acked too (it
 * would fail again), with an error in the log. Returns undefined when no source has a binding.
 * @throws MeshError UNAVAILABLE when NATS does not answer; FAILED_PRECONDITION when a binding's
 * stream cannot be created (e.g. its subject belongs to another stream).
 */
export async function startInputFeeds(context: PublishContext, balancerId: string): Promise<InputFeeds | undefined> {
  const bound = [...context.options.sources.values()].filter((source) => source.input !== undefined);
  const url = context.options.natsUrl;
  if (bound.length === 0 || url === undefined) return undefined;
  const logger = context.logger.child({ component: "input-bindings" });
  const bus = await createBus({ servers: url, name: balancerId, logger });
  const feeds: Feed[] = [];
  try {
    for (const source of bound) {
      const input = source.input!;
      if (input.subject !== undefined) await bus.ensureStream({ name: input.stream, subjects: [input.subject] });
      feeds.push(new Feed(source, bus, context, logger.child({ window: source.name, durable: input.durable })));
    }
  } catch (error) {
    await bus.close();
    throw MeshError.from(error);
  }
  const running = feeds.map((feed) => feed.run());
  logger.info({ windows: bound.map((source) => source.name) }, "reading input bindings");
  return {
    lag: () => Promise.all(feeds.map((feed) => feed.lag())),
    async close() {
      await Promise.all(running);
      await Promise.all(feeds.map((feed) => feed.close()));
      await bus.close();
    },
  };
}

/** The reader of one source window's binding. */
class Feed {
  private binding: InputBinding;
  private readonly schemas: SchemaCache = createSchemaCache();

  constructor(
    private readonly source: CompiledSource,
    private readonly bus: Bus,
    private readonly context: PublishContext,
    private readonly logger: Logger,
  ) {
    this.binding = this.open();
  }

  private open(): InputBinding {
    const input = this.source.input!;
    return createInputBinding(this.bus, {
      stream: input.stream,
      durable: input.durable,
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      schema: this.source.schema,
      window: this.source.name,
    });
  }

  /**
   * Reads until the balancer drains. When the binding fails (e.g. its stream does not exist yet)
   * it is reopened after a pause: a new binding rewinds the durable to its ack floor, so messages
   * come again in order, and the workers' watermarks drop what they already applied.
   */
  async run(): Promise<void> {
    const stop = this.context.draining;
    for (let attempt = 0; !stop.aborted; attempt++) {
      try {
        await this.read(this.binding, stop);
        return;
      } catch (error) {
        if (stop.aborted) return;
        const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 10));
        this.logger.error({ err: MeshError.from(error), retryInMs: delay }, "input binding failed; reopening it");
        await this.binding.close();
        await sleep(delay, stop);
        if (!stop.aborted) this.binding = this.open();
      }
    }
  }

  private async read(binding: InputBinding, stop: AbortSignal): Promise<void> {
    const reader = createStoppableReader(binding, stop);
    for (;;) {
      await this.context.dispatcher.waitForRoom(stop);
      // A message read when the stop came is never dispatched nor acked: the durable delivers it again.
      const result = await reader.next();
      if (result === "stopped" || result.done === true) return;
      this.ingest(result.value);
    }
  }

  /** Dispatches one message exactly like a published batch with the message's origin. */
  private ingest(message: InputMessage): void {
    const { context, source } = this;
    const origin = { sourceId: message.origin.sourceId, seq: message.origin.seq };
    const request = create(pb.PublishRequestSchema, {
      project: context.options.project,
      batch: encodeBatch(message.batch, { window: source.name, origin }),
    });
    const delivery = admit(request, context, this.schemas, this.sinkFor(message));
    if (delivery === undefined) return;
    context.outstanding.add(1);
    context.dispatcher.dispatch(delivery);
  }

  private sinkFor(message: InputMessage): DeliverySink {
    const { context, logger } = this;
    return {
      reply(response) {
        const result = response.result;
        context.metrics.replies.add(1, { result: result?.case === "ack" ? "ack" : "error" });
        if (result?.case === "error") {
          logger.error(
            { seq: message.origin.seq, code: result.value.code, reason: result.value.message },
            "input message could not be applied; acknowledged so that it does not block the stream",
          );
        } else if (result?.case === "ack" && (result.value.badEvents?.length ?? 0) > 0) {
          logger.warn(
            { seq: message.origin.seq, badEvents: result.value.badEvents?.length },
            "input message had bad events",
          );
        }
        message.ack();
      },
      settled() {
        context.outstanding.add(-1);
      },
    };
  }

  async lag(): Promise<InputLag> {
    const { stream, durable } = this.source.input!;
    const base = { window: this.source.name, stream, durable };
    try {
      const lag = await this.binding.lag();
      return { ...base, pending: lag.pending, ackPending: lag.ackPending };
    } catch (error) {
      return { ...base, pending: undefined, ackPending: undefined, error: MeshError.from(error).message };
    }
  }

  close(): Promise<void> {
    return this.binding.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
