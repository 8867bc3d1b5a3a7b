/**
 * The parts of a `Batch` around its opcodes and columns, for one-pass writers of messages that
 * carry batches (the balancer's process encoder): sized first, then written in the order and with
 * the bytes `toBinary` writes them (the encoder's tests compare with it byte for byte).
 */
import type { Batch } from "./gen/espmesh/v1/events_pb.js";
import {
  encodeUtf8,
  messageSize,
  omittableSize,
  uint64Size,
  uint64Varint,
  utf8Of,
  VARINT,
  varintSize,
  type WireWriter,
} from "./wire-writer.js";

type TraceEntry = readonly [key: Uint8Array, value: Uint8Array, size: number];

/** The fields of a `Batch` other than its opcodes and columns, encoded and sized. */
export interface BatchFrame {
  readonly window: Uint8Array;
  readonly fingerprint: Uint8Array;
  /** The encoded `Schema`, when the batch carries one. */
  readonly schema: Uint8Array | undefined;
  readonly count: number;
  /** Present when the batch has an origin. */
  readonly origin:
    | { readonly sourceId: Uint8Array; readonly seq: number | number[]; readonly size: number }
    | undefined;
  readonly trace: readonly TraceEntry[];
  /** Bytes of all of the above as fields of the batch. */
  readonly size: number;
}

/**
 * Plans the frame of a batch with `count` events; `fingerprint` and `schema` may differ from the
 * message's (the balancer fills in the fingerprint and sends the schema once per stream).
 */
export function planBatchFrame(
  message: Batch,
  count: number,
  fingerprint: string,
  schema: Uint8Array | undefined,
): BatchFrame {
  const window = utf8Of(message.window);
  const fingerprintBytes = utf8Of(fingerprint);
  let size = omittableSize(window.byteLength) + omittableSize(fingerprintBytes.byteLength);
  if (schema !== undefined) size += messageSize(schema.byteLength);
  if (count !== 0) size += 1 + varintSize(count);
  let origin: BatchFrame["origin"];
  if (message.origin !== undefined) {
    const sourceId = utf8Of(message.origin.sourceId);
    const seq = uint64Varint(message.origin.seq);
    const originSize = omittableSize(sourceId.byteLength) + (seq === 0 ? 0 : 1 + uint64Size(seq));
    origin = { sourceId, seq, size: originSize };
    size += messageSize(originSize);
  }
  const trace: TraceEntry[] = [];
  for (const key of Object.keys(message.traceContext)) {
    // Keys repeat; values (trace ids) do not, so they are not cached.
    const k = utf8Of(key);
    const v = encodeUtf8(message.traceContext[key] ?? "");
    const entry = messageSize(k.byteLength) + messageSize(v.byteLength);
    trace.push([k, v, entry]);
    size += messageSize(entry);
  }
  return { window, fingerprint: fingerprintBytes, schema, count, origin, trace, size };
}

/** Writes the fields of a frame that come before the opcodes (window, fingerprint, schema, count). */
export function writeBatchHead(w: WireWriter, frame: BatchFrame): void {
  w.omittable(1, frame.window);
  w.omittable(2, frame.fingerprint);
  if (frame.schema !== undefined) w.always(3, frame.schema);
  if (frame.count !== 0) {
    w.tag(4, VARINT);
    w.varint(frame.count);
  }
}

/** Writes the fields of a frame that come after the columns (origin, trace context). */
export function writeBatchTail(w: WireWriter, frame: BatchFrame): void {
  const origin = frame.origin;
  if (origin !== undefined) {
    w.header(7, origin.size);
    w.omittable(1, origin.sourceId);
    if (origin.seq !== 0) {
      w.tag(2, VARINT);
      w.uint64(origin.seq);
    }
  }
  for (const [key, value, entry] of frame.trace) {
    w.header(8, entry);
    w.always(1, key);
    w.always(2, value);
  }
}
