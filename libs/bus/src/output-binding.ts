import { toBinary } from "@bufbuild/protobuf";
import { type Batch, encodeBatch } from "@espmesh/events";
import { BatchSchema } from "@espmesh/proto";
import { getMeter, type Logger, MeshError } from "@espmesh/telemetry";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { type Bus, busInternals } from "./bus.js";
import { BATCH_CONTENT_TYPE, CONTENT_TYPE_HEADER } from "./content-type.js";
import { isTransient, natsError } from "./nats-errors.js";
import { backoffDelay, pause } from "./retry.js";
import { integerOption, invalidOption, subjectOption } from "./validate.js";

/** Options of {@link createOutputBinding}. */
export interface OutputBindingOptions {
  /** The subject batches are published on (no wildcards); a stream must store it. */
  readonly subject: string;
  /** The output window the batches come from (written into each batch message). */
  readonly window: string;
  /** How long to wait for the stream's ack of one attempt before trying again. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** First pause between attempts; it doubles up to `maxRetryDelayMs`. @default 100 */
  readonly retryDelayMs?: number;
  /** Longest pause between attempts. @default 2000 */
  readonly maxRetryDelayMs?: number;
}

/** {@link OutputBindingOptions} with every default applied. */
export interface CompiledOutputBindingOptions {
  readonly subject: string;
  readonly window: string;
  readonly publishTimeoutMs: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

/** Per-call options of {@link OutputBinding.publish}. */
export interface PublishOptions {
  /** Stops retrying (the publish rejects with CANCELLED) when aborted. @default none */
  readonly signal?: AbortSignal;
}

/** Publishes a window's output batches to a subject. */
export interface OutputBinding {
  /** The subject published on. */
  readonly subject: string;
  /**
   * Publishes one batch as a columnar message (header `Content-Type: application/x-espmesh-batch`,
   * schema included) with `Nats-Msg-Id: msgId`, and resolves once the stream stored it. A
   * duplicate (the stream already holds `msgId` within its duplicate window) counts as stored.
   * Failures that go away when NATS comes back (disconnect, timeout, JetStream not ready) are
   * retried with backoff for as long as it takes, so a NATS restart loses nothing; the same id
   * makes the retries harmless.
   *
   * Publishes of one binding go out one at a time, in call order, each retried until stored before
   * the next is sent: the stream holds them in call order. The batch is encoded before this
   * returns, so the caller may reuse it at once.
   * @param msgId the de-duplication id; see {@link outputMessageId}.
   * @throws MeshError INVALID_ARGUMENT for an empty or multi-line msgId or a message too large
   * for the server; UNAVAILABLE when the bus closed; CANCELLED when `options.signal` aborted;
   * FAILED_PRECONDITION when JetStream rejects the message for good.
   */
  publish(batch: Batch, msgId: string, options?: PublishOptions): Promise<void>;
}

const meter = getMeter("@espmesh/bus");
const publishedMessages = meter.createCounter("espmesh_bus_published_messages", {
  description: "batch messages stored by a stream (duplicate=true: the stream already held the id)",
});
const publishRetries = meter.createCounter("espmesh_bus_publish_retries", {
  description: "publish attempts that failed with a transient error and were retried",
});

/** Applies the defaults of {@link OutputBindingOptions} and rejects invalid values naming the option. */
export function compileOutputBindingOptions(options: OutputBindingOptions): CompiledOutputBindingOptions {
  const component = "output binding";
  const subject = subjectOption(component, "subject", options.subject, false);
  if (typeof options.window !== "string" || options.window === "") {
    throw invalidOption(component, "window", "must be a non-empty window name");
  }
  const retryDelayMs = integerOption(component, "retryDelayMs", options.retryDelayMs, 100, 1);
  const maxRetryDelayMs = integerOption(component, "maxRetryDelayMs", options.maxRetryDelayMs, 2000, 1);
  if (maxRetryDelayMs < retryDelayMs) {
    throw invalidOption(
      component,
      "maxRetryDelayMs",
      `(${maxRetryDelayMs}) must not be below retryDelayMs (${retryDelayMs})`,
    );
  }
  return {
    subject,
    window: options.window,
    publishTimeoutMs: integerOption(component, "publishTimeoutMs", options.publishTimeoutMs, 5000, 1),
    retryDelayMs,
    maxRetryDelayMs,
  };
}

/** Binds a window's output to a subject on `bus`; see {@link OutputBinding}. */
export function createOutputBinding(bus: Bus, options: OutputBindingOptions): OutputBinding {
  const config = compileOutputBindingOptions(options);
  const internals = busInternals(bus);
  const logger = internals.logger.child({ subject: config.subject, window: config.window });
  const attributes = { subject: config.subject };
  let tail: Promise<void> = Promise.resolve();

  const send = async (bytes: Uint8Array, msgId: string, signal: AbortSignal | undefined): Promise<void> => {
    const stop = signal === undefined ? internals.signal : AbortSignal.any([signal, internals.signal]);
    const headers = natsHeaders();
    headers.set(CONTENT_TYPE_HEADER, BATCH_CONTENT_TYPE);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted === true) {
        throw new MeshError("CANCELLED", `publish to "${config.subject}" was cancelled`, { details: { msgId } });
      }
      if (internals.signal.aborted) {
        throw new MeshError("UNAVAILABLE", `publish to "${config.subject}": the bus is closed`, { details: { msgId } });
      }
      try {
        const ack = await internals.jetstream.publish(config.subject, bytes, {
          msgID: msgId,
          headers,
          timeout: config.publishTimeoutMs,
        });
        publishedMessages.add(1, { ...attributes, duplicate: ack.duplicate });
        if (attempt > 0) logger.info({ msgId, attempts: attempt + 1, seq: ack.seq }, "published after retrying");
        return;
      } catch (error) {
        if (!isTransient(error)) {
          throw natsError(`publish to "${config.subject}"`, error, { window: config.window, msgId });
        }
        publishRetries.add(1, attributes);
        logRetry(logger, attempt, msgId, error);
        await pause(backoffDelay({ minMs: config.retryDelayMs, maxMs: config.maxRetryDelayMs }, attempt), stop);
      }
    }
  };

  return {
    subject: config.subject,
    publish(batch, msgId, publishOptions = {}) {
      if (typeof msgId !== "string" || msgId === "" || /[\r\n]/.test(msgId)) {
        return Promise.reject(
          new MeshError("INVALID_ARGUMENT", `publish to "${config.subject}": msgId must be a non-empty single line`, {
            details: { window: config.window },
          }),
        );
      }
      let bytes: Uint8Array;
      try {
        bytes = toBinary(BatchSchema, encodeBatch(batch, { window: config.window }));
      } catch (error) {
        return Promise.reject(MeshError.from(error));
      }
      const run = tail.then(() => send(bytes, msgId, publishOptions.signal));
      // The next publish waits for this one whatever its outcome; the caller gets the outcome from `run`.
      tail = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
  };
}

/** Logs the first failed attempt and then every tenth, so an outage is visible without flooding. */
function logRetry(logger: Logger, attempt: number, msgId: string, error: unknown): void {
  if (attempt % 10 !== 0) return;
  logger.warn({ msgId, attempt: attempt + 1, err: error }, "publish failed; retrying until the stream acks");
}
