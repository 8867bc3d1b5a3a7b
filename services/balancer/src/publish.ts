import { createSchemaCache, type SchemaCache, schemaFromProto, schemaToString } from "@espmesh/events";
import type * as pb from "@espmesh/proto";
import { shardsOfBatch, shardsOfHashes } from "@espmesh/routing";
import { type Logger, MeshError, type MeshErrorCode } from "@espmesh/telemetry";
import { createChannel } from "./channel.js";
import { Delivery, type DeliverySink, messageBytes, type PublishReply } from "./delivery.js";
import type { Dispatcher } from "./dispatcher.js";
import type { BalancerMetrics } from "./metrics.js";
import type { CompiledBalancerOptions } from "./options.js";
import { createStoppableReader } from "./stoppable-reader.js";
import { checkWireLayout, decodeKeys, wireKeyHashes } from "./wire-rows.js";

/** What a Publish stream needs from the balancer. */
export interface PublishContext {
  readonly options: CompiledBalancerOptions;
  readonly dispatcher: Dispatcher;
  readonly metrics: BalancerMetrics;
  readonly logger: Logger;
  /** Aborted when the balancer starts draining: streams stop reading and finish their acks. */
  readonly draining: AbortSignal;
  /** Counts deliveries the balancer still has to answer. */
  readonly outstanding: { add(n: number): void };
}

/**
 * Serves one Publish stream: reads batches only while every worker has room (so a full worker
 * slows the publisher through gRPC flow control), checks each against its source window, routes
 * it, and answers each origin once every worker it reached has committed it (several clean acks to
 * a response when the publisher asked for it). The response stream ends after the publisher
 * half-closes and every origin it sent is answered.
 */
export function servePublish(
  requests: AsyncIterable<pb.PublishRequest>,
  signal: AbortSignal,
  context: PublishContext,
): AsyncIterable<PublishReply> {
  const { dispatcher, metrics } = context;
  const out = createChannel<PublishReply>({ highWater: Number.POSITIVE_INFINITY });
  const schemas = createSchemaCache();
  let outstanding = 0;
  let inputDone = false;
  // For a publisher that set coalesce_acks: clean acks wait here until the current turn (e.g. one
  // worker's commit, which answers many origins at once) is done, then go out in one response.
  let coalesce = false;
  let acked: pb.Origin[] = [];
  let flushQueued = false;
  const flushAcks = () => {
    flushQueued = false;
    if (acked.length === 0) return;
    out.push({ acked });
    metrics.replies.add(acked.length, { result: "ack" });
    acked = [];
  };
  const end = (error?: MeshError) => {
    flushAcks();
    out.end(error);
  };
  const sink: DeliverySink = {
    reply(response) {
      if (coalesce && isCleanAck(response)) {
        acked.push(response.origin);
        if (!flushQueued) {
          flushQueued = true;
          queueMicrotask(flushAcks);
        }
        return;
      }
      flushAcks();
      out.push(response);
      metrics.replies.add(1, { result: response.result?.case === "ack" ? "ack" : "error" });
    },
    settled() {
      outstanding--;
      context.outstanding.add(-1);
      if (inputDone && outstanding === 0) end();
    },
  };
  const stop = AbortSignal.any([signal, context.draining]);
  const ingest = (request: pb.PublishRequest) => {
    if (request.coalesceAcks) coalesce = true;
    const delivery = admit(request, context, schemas, sink);
    if (delivery === undefined) return;
    outstanding++;
    context.outstanding.add(1);
    dispatcher.dispatch(delivery);
  };
  readRequests(requests, stop, dispatcher, ingest).then(
    () => {
      inputDone = true;
      if (outstanding === 0) end();
    },
    (error: unknown) => {
      inputDone = true;
      end(MeshError.from(error));
    },
  );
  return out;
}

/** An ack whose every event was accepted: what `PublishResponse.acked` can carry. */
function isCleanAck(response: PublishReply): response is PublishReply & { origin: pb.Origin } {
  const result = response.result;
  return response.origin !== undefined && result?.case === "ack" && (result.value.badEvents?.length ?? 0) === 0;
}

async function readRequests(
  requests: AsyncIterable<pb.PublishRequest>,
  stop: AbortSignal,
  dispatcher: Dispatcher,
  ingest: (request: pb.PublishRequest) => void,
): Promise<void> {
  const reader = createStoppableReader(requests, stop);
  for (;;) {
    if (!dispatcher.hasRoom()) await dispatcher.waitForRoom(stop);
    const result = await reader.next();
    // A read abandoned by the stop goes with the stream; its outcome no longer matters.
    if (result === "stopped" || result.done === true) return;
    ingest(result.value);
  }
}

/** Refuses a request whose origin can be named; requests without one are only logged. */
function refuse(sink: DeliverySink, origin: pb.Origin | undefined, code: MeshErrorCode, message: string): undefined {
  sink.reply({ ...(origin === undefined ? {} : { origin }), result: { case: "error", value: { code, message } } });
  return undefined;
}

/**
 * Checks a request against the deployment and decodes what routing needs; a Part's delivery, or
 * undefined if refused (the refusal went to `sink`). Input bindings admit their messages here too.
 */
export function admit(
  request: pb.PublishRequest,
  context: PublishContext,
  schemas: SchemaCache,
  sink: DeliverySink,
): Parameters<Dispatcher["dispatch"]>[0] | undefined {
  const { options } = context;
  const message = request.batch;
  const origin = message?.origin;
  if (request.project !== options.project) {
    return refuse(
      sink,
      origin,
      "NOT_FOUND",
      `project "${request.project}" is not served here (this balancer serves "${options.project}")`,
    );
  }
  if (message === undefined) return refuse(sink, origin, "INVALID_ARGUMENT", "a publish request needs a batch");
  if (origin === undefined || origin.sourceId === "" || origin.seq < 1n) {
    return refuse(sink, origin, "INVALID_ARGUMENT", "a published batch needs an origin (sourceId and seq ≥ 1)");
  }
  const source = options.sources.get(message.window);
  if (source === undefined) {
    const known = [...options.sources.keys()].join(", ");
    return refuse(
      sink,
      origin,
      "NOT_FOUND",
      `window "${message.window}" is not a source window of ${options.project} (${known})`,
    );
  }
  let fingerprint = message.schemaFingerprint;
  try {
    if (fingerprint === "" && message.schema !== undefined) fingerprint = schemaFromProto(message.schema).fingerprint;
  } catch (error) {
    return refuse(sink, origin, "INVALID_ARGUMENT", MeshError.from(error).message);
  }
  if (fingerprint !== source.schema.fingerprint) {
    return refuse(
      sink,
      origin,
      "INVALID_ARGUMENT",
      `batch schema ${fingerprint || "(none)"} is not the schema of window "${source.name}" (${schemaToString(source.schema)})`,
    );
  }
  const count = message.count;
  let shards: Uint32Array | undefined;
  try {
    checkWireLayout(message, source.schema);
    if (source.keys !== undefined) {
      const hashes = wireKeyHashes(message, source.keys);
      shards =
        hashes === undefined
          ? shardsOfBatch(decodeKeys(message, source.keys, schemas), {
              shardCount: context.options.shardCount,
              hashFields: source.keys.schema.keyIndexes,
            })
          : shardsOfHashes(hashes, context.options.shardCount);
    }
  } catch (error) {
    const failure = MeshError.from(error);
    return refuse(sink, origin, failure.code, failure.message);
  }
  context.metrics.eventsIn.add(count, { window: source.name });
  const delivery = new Delivery(origin, source.name, count, messageBytes(message) / Math.max(1, count), sink);
  return { delivery, source, message, shards, rows: undefined, count };
}
