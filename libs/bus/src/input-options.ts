import type { Schema } from "@espmesh/events";
import { integerOption, invalidOption, nameOption, subjectOption } from "./validate.js";

/** Options of {@link createInputBinding}. */
export interface InputBindingOptions {
  /** The stream to read. */
  readonly stream: string;
  /** Only messages on this subject (wildcards allowed). @default every subject of the stream */
  readonly subject?: string;
  /**
   * The durable consumer's name. The binding must be its only reader (one balancer per source
   * window); a second reader would steal messages and break the ordering guarantees.
   */
  readonly durable: string;
  /** The schema of the source window: columnar messages must carry it, JSON rows are converted by it. */
  readonly schema: Schema;
  /** The source window fed by this binding (for logs and errors). */
  readonly window: string;
  /** Messages asked for per pull. @default 100 */
  readonly batchSize?: number;
  /** Most messages delivered and not acked yet; JetStream stops delivering at this bound. @default 10000 */
  readonly maxAckPending?: number;
  /**
   * How long JetStream waits for an ack before it redelivers. Messages the reader holds have their
   * timer reset every third of this, so a slow commit causes no redelivery.
   * @default 30000
   */
  readonly ackWaitMs?: number;
  /** How long one pull waits for messages before the next pull (at least 1000). @default 5000 */
  readonly fetchExpiresMs?: number;
  /** First pause after a failure (pull, durable lookup); it doubles up to `maxRetryDelayMs`. @default 100 */
  readonly retryDelayMs?: number;
  /** Longest pause after a failure. @default 5000 */
  readonly maxRetryDelayMs?: number;
}

/** {@link InputBindingOptions} with every default applied. */
export interface CompiledInputBindingOptions {
  readonly stream: string;
  readonly subject: string | undefined;
  readonly durable: string;
  readonly schema: Schema;
  readonly window: string;
  readonly batchSize: number;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  readonly fetchExpiresMs: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

const component = "input binding";

/** Applies the defaults of {@link InputBindingOptions} and rejects invalid or conflicting values naming them. */
export function compileInputBindingOptions(options: InputBindingOptions): CompiledInputBindingOptions {
  const stream = nameOption(component, "stream", options.stream);
  const durable = nameOption(component, "durable", options.durable);
  const subject =
    options.subject === undefined ? undefined : subjectOption(component, "subject", options.subject, true);
  if (typeof options.window !== "string" || options.window === "") {
    throw invalidOption(component, "window", "must be a non-empty window name");
  }
  const schema = options.schema;
  if (typeof schema !== "object" || schema === null || !Array.isArray(schema.fields)) {
    throw invalidOption(component, "schema", "must be a Schema (createSchema or parseSchemaString)");
  }
  const batchSize = integerOption(component, "batchSize", options.batchSize, 100, 1);
  const maxAckPending = integerOption(component, "maxAckPending", options.maxAckPending, 10_000, 1);
  if (batchSize > maxAckPending) {
    throw invalidOption(component, "batchSize", `(${batchSize}) must not exceed maxAckPending (${maxAckPending})`);
  }
  const retryDelayMs = integerOption(component, "retryDelayMs", options.retryDelayMs, 100, 1);
  const maxRetryDelayMs = integerOption(component, "maxRetryDelayMs", options.maxRetryDelayMs, 5000, 1);
  if (maxRetryDelayMs < retryDelayMs) {
    throw invalidOption(
      component,
      "maxRetryDelayMs",
      `(${maxRetryDelayMs}) must not be below retryDelayMs (${retryDelayMs})`,
    );
  }
  return {
    stream,
    subject,
    durable,
    schema,
    window: options.window,
    batchSize,
    maxAckPending,
    ackWaitMs: integerOption(component, "ackWaitMs", options.ackWaitMs, 30_000, 100),
    fetchExpiresMs: integerOption(component, "fetchExpiresMs", options.fetchExpiresMs, 5000, 1000),
    retryDelayMs,
    maxRetryDelayMs,
  };
}
