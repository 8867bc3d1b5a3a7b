import { randomUUID } from "node:crypto";
import {
  type BatchBuilder,
  createBatchBuilder,
  encodeBatch,
  type Opcode,
  type OpcodeName,
  opcodeOf,
  type Row,
  type Schema,
} from "@espmesh/events";
import {
  type BadEvent,
  createChannel,
  type IngestService,
  type Batch as ProtoBatch,
  type PublishResponse,
  type ServiceClient,
} from "@espmesh/proto";
import { type Logger, MeshError } from "@espmesh/telemetry";
import type { CompiledPublisherOptions } from "./options.js";

interface PublishRequestInit {
  readonly project: string;
  readonly batch: ProtoBatch;
  /** Always set: this publisher reads `PublishResponse.acked`. */
  readonly coalesceAcks: true;
}

/**
 * Publishes rows into one source window. Rows are batched (linger, max rows); `publish()`
 * resolves once the rows are accepted into a batch and waits while too many batches are
 * unacknowledged (backpressure); `flush()` resolves once everything published so far is
 * committed by the mesh. A broken connection is re-opened and every unacknowledged batch is sent
 * again with its original origin, so the mesh applies it once.
 *
 * @example
 * ```ts
 * const trades = client.publisher("trades", "trades");
 * await trades.publish({ id: 1, symbol: "IBM", price: 101.5, quantity: 200 });
 * await trades.flush(); // committed
 * await trades.close();
 * ```
 */
export interface Publisher {
  /** The origin source id of this publisher session. */
  readonly sourceId: string;
  /** Rows acknowledged (committed) so far. */
  readonly acknowledged: number;
  /**
   * Adds rows (default opcode insert; a row may carry `_opcode`). Rejects a bad row with
   * INVALID_ARGUMENT naming the row and field; rows before it in the call are kept.
   */
  publish(rows: Row | readonly Row[], opcode?: Opcode | OpcodeName): Promise<void>;
  /** Sends the open batch and resolves when every batch so far is acknowledged. */
  flush(): Promise<void>;
  /** Flushes, then closes the stream. */
  close(): Promise<void>;
}

interface Unacked {
  readonly seq: number;
  readonly request: PublishRequestInit;
  readonly rows: number;
}

/** What a publisher needs from its client. */
export interface PublisherContext {
  readonly project: string;
  readonly window: string;
  readonly options: CompiledPublisherOptions;
  readonly logger: Logger;
  /** The ingest client of the project's balancer. */
  ingest(): Promise<ServiceClient<typeof IngestService>>;
  /** The source window's schema. */
  schema(): Promise<Schema>;
}

/** Creates a {@link Publisher}; the stream opens with the first batch. */
export function createPublisher(context: PublisherContext): Publisher {
  const { project, window, options, logger } = context;
  const sourceId = `${options.sourcePrefix}-${randomUUID()}`;
  const unacked = new Map<number, Unacked>();
  const failures: MeshError[] = [];
  let builder: BatchBuilder | undefined;
  let schemaPromise: Promise<Schema> | undefined;
  let nextSeq = 1;
  let acknowledged = 0;
  let lingerTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let waiters: (() => void)[] = [];
  let send: ((request: PublishRequestInit) => void) | undefined;
  let connection: Promise<void> | undefined;
  let endStream: (() => void) | undefined;

  const wakeAll = () => {
    const current = waiters;
    waiters = [];
    for (const wake of current) wake();
  };
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve));

  const onResponse = (response: PublishResponse) => {
    // Clean acks coalesced by the balancer: each accepted the whole batch.
    for (const origin of response.acked) {
      const entry = unacked.get(Number(origin.seq));
      if (!entry) continue;
      unacked.delete(entry.seq);
      acknowledged += entry.rows;
    }
    if (response.origin !== undefined) onOutcome(response);
    wakeAll();
  };

  const onOutcome = (response: PublishResponse) => {
    const seq = Number(response.origin?.seq ?? 0n);
    const entry = unacked.get(seq);
    if (!entry) return;
    unacked.delete(seq);
    if (response.result.case === "error") {
      failures.push(
        publishFailure(
          window,
          seq,
          response.result.value.code,
          response.result.value.message,
          response.result.value.badEvents,
        ),
      );
    } else {
      acknowledged += response.result.case === "ack" ? response.result.value.accepted : entry.rows;
      const bad = response.result.case === "ack" ? response.result.value.badEvents : [];
      if (bad.length > 0) failures.push(publishFailure(window, seq, "INVALID_ARGUMENT", "events rejected", bad));
    }
  };

  // One stream at a time; when it breaks, reconnect and send every unacknowledged batch again.
  const connect = async () => {
    let delay = options.reconnectDelayMs;
    while (!closed || unacked.size > 0) {
      const outgoing = createChannel<PublishRequestInit>();
      endStream = () => outgoing.end();
      let schemaSent = false;
      send = (request) => {
        // The schema rides on the first batch of each stream only; later ones refer to its fingerprint.
        if (schemaSent && request.batch) {
          const { schema: _sent, ...batch } = request.batch;
          outgoing.push({ ...request, batch });
        } else outgoing.push(request);
        schemaSent = true;
      };
      for (const entry of [...unacked.values()].sort((a, b) => a.seq - b.seq)) send(entry.request);
      try {
        const ingest = await context.ingest();
        for await (const response of ingest.publish(outgoing)) {
          delay = options.reconnectDelayMs;
          onResponse(response);
          if (closed && unacked.size === 0) outgoing.end();
        }
        if (closed && unacked.size === 0) return;
      } catch (error) {
        const failure = MeshError.from(error);
        if (failure.code !== "UNAVAILABLE" && failure.code !== "CANCELLED" && failure.code !== "INTERNAL") {
          failures.push(failure);
          for (const seq of unacked.keys()) unacked.delete(seq);
          wakeAll();
          return;
        }
        logger.warn({ err: failure.message, unacked: unacked.size }, "publish stream broke; reconnecting");
      } finally {
        outgoing.end();
        send = undefined;
        endStream = undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.maxReconnectDelayMs);
    }
  };

  const seal = () => {
    if (lingerTimer) {
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
    }
    if (!builder || builder.length === 0) return;
    const batch = builder.seal();
    builder.reset();
    const seq = nextSeq++;
    const request: PublishRequestInit = {
      project,
      batch: encodeBatch(batch, { window, origin: { sourceId, seq }, includeSchema: true }),
      coalesceAcks: true,
    };
    unacked.set(seq, { seq, request, rows: batch.length });
    // A new connection sends every unacknowledged batch, this one included; only an open one needs it sent here.
    if (connection === undefined) {
      connection = connect().finally(() => {
        connection = undefined;
      });
    } else send?.(request);
  };

  const takeFailure = () => {
    const failure = failures.shift();
    if (failure) throw failure;
  };

  return {
    sourceId,
    get acknowledged() {
      return acknowledged;
    },
    async publish(rows, opcode) {
      if (closed) throw new MeshError("FAILED_PRECONDITION", `publisher of window "${window}" is closed`);
      schemaPromise ??= options.schema ? Promise.resolve(options.schema) : context.schema();
      const schema = await schemaPromise;
      builder ??= createBatchBuilder(schema, options.maxRows);
      const list: readonly Row[] = Array.isArray(rows) ? rows : [rows as Row];
      const defaultOpcode = opcode === undefined ? undefined : typeof opcode === "string" ? opcodeOf(opcode) : opcode;
      for (let i = 0; i < list.length; i++) {
        const { _opcode, ...fields } = list[i]!;
        const rowOpcode = typeof _opcode === "string" ? opcodeOf(_opcode) : defaultOpcode;
        try {
          builder.append(fields, rowOpcode);
        } catch (error) {
          const failure = MeshError.from(error);
          throw new MeshError(failure.code, `window "${window}", row ${i}: ${failure.message}`, {
            details: { ...failure.details, window, row: i },
            cause: failure,
          });
        }
        if (builder.length >= options.maxRows) seal();
      }
      if (builder.length > 0 && !lingerTimer) lingerTimer = setTimeout(seal, options.lingerMs);
      while (unacked.size >= options.maxUnacked) await changed();
      takeFailure();
    },
    async flush() {
      seal();
      // Wait for the batches sealed so far only: later ones (other callers' rows) must not hold this flush.
      const upTo = nextSeq - 1;
      while ((unacked.keys().next().value ?? Number.POSITIVE_INFINITY) <= upTo) await changed();
      takeFailure();
    },
    async close() {
      seal();
      closed = true;
      while (unacked.size > 0) await changed();
      // Nothing is left to acknowledge: end the request stream, or an idle stream would wait forever.
      endStream?.();
      await connection;
      takeFailure();
    },
  };
}

function publishFailure(
  window: string,
  seq: number,
  code: string,
  message: string,
  bad: readonly BadEvent[],
): MeshError {
  const first = bad[0];
  const where = first ? ` (row ${first.row}${first.field ? `, field "${first.field}"` : ""}: ${first.reason})` : "";
  return new MeshError(
    (code || "INTERNAL") as MeshError["code"],
    `batch ${seq} for window "${window}": ${message}${where}`,
    { details: { window, ...(first ? { row: first.row, field: first.field } : {}), badEvents: bad.length } },
  );
}
