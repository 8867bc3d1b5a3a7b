import { type Batch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import type { InputMessage } from "./input-binding.js";

/*
 * Helpers of this package's integration tests (not exported by the package).
 */

/** The schema of the test messages. */
export const tradeSchema = parseSchemaString("id*:int64,symbol:string,price:double");

/** A batch of trades with ids `from` .. `from + count - 1`. */
export function trades(from: number, count = 1): Batch {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: from + i,
    symbol: `S${(from + i) % 7}`,
    price: from + i + 0.5,
  }));
  return rowsToBatch(tradeSchema, rows);
}

/** The ids of a batch of trades. */
export function idsOf(batch: Batch): number[] {
  return Array.from((batch.columns[0]!.values as Float64Array).subarray(0, batch.length));
}

/** The next `count` messages of an iterator, failing with DEADLINE_EXCEEDED after `timeoutMs`. */
export async function take(
  iterator: AsyncIterator<InputMessage>,
  count: number,
  timeoutMs = 10_000,
): Promise<InputMessage[]> {
  const deadline = Date.now() + timeoutMs;
  const taken: InputMessage[] = [];
  while (taken.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new MeshError("DEADLINE_EXCEEDED", `got ${taken.length} of ${count} messages in ${timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const next = await Promise.race([iterator.next(), expired]);
      if (next.done === true)
        throw new MeshError("FAILED_PRECONDITION", `iteration ended after ${taken.length} of ${count}`);
      taken.push(next.value);
    } finally {
      clearTimeout(timer);
    }
  }
  return taken;
}

/** Publishes a raw payload (e.g. JSON) with an optional content type and returns its stream sequence. */
export async function publishRaw(
  connection: NatsConnection,
  subject: string,
  payload: string | Uint8Array,
  contentType?: string,
): Promise<number> {
  const headers = natsHeaders();
  if (contentType !== undefined) headers.set("Content-Type", contentType);
  const ack = await jetstream(connection).publish(subject, payload, contentType === undefined ? {} : { headers });
  return ack.seq;
}

/** One stored message of a stream. */
export interface StoredMessage {
  readonly seq: number;
  readonly msgId: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

/** Every message a stream holds, in order. */
export async function storedMessages(connection: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const manager = await jetstreamManager(connection);
  const info = await manager.streams.info(stream);
  const stored: StoredMessage[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await manager.streams.getMessage(stream, { seq });
    if (message === null) continue;
    stored.push({
      seq,
      msgId: message.header?.get("Nats-Msg-Id") ?? "",
      contentType: message.header?.get("Content-Type") ?? "",
      data: message.data,
    });
  }
  return stored;
}
