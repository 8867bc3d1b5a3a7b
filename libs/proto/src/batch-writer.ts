/**
 * One-pass writers of the messages that carry event batches: `PublishRequest` (what the SDK, the
 * gateway and the CLI send a balancer), and the parts of a `Batch` around its opcodes and columns
 * that the balancer's process encoder shares. The bytes are those `toBinary` writes for the same
 * message (same fields, same order; tested); a request in a shape the writer does not expect (a
 * partial init object, unknown fields) goes through `toBinary` instead.
 */
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type Batch, type Schema, SchemaSchema } from "./gen/espmesh/v1/events_pb.js";
import { PublishRequestSchema } from "./gen/espmesh/v1/ingest_pb.js";
import {
  carve,
  encodeUtf8,
  messageSize,
  omittableSize,
  uint64Size,
  uint64Varint,
  utf8Of,
  VARINT,
  varintSize,
  WireWriter,
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

const encodedSchemas = new WeakMap<Schema, Uint8Array>();

/** The encoded `Schema` message (cached per schema object: publishers reuse theirs). */
export function encodedSchema(schema: Schema): Uint8Array {
  let bytes = encodedSchemas.get(schema);
  if (bytes === undefined) {
    bytes = toBinary(SchemaSchema, schema);
    encodedSchemas.set(schema, bytes);
  }
  return bytes;
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

/** Whether a request is a complete message the one-pass writer handles (else `toBinary`). */
function isComplete(request: MessageInitShape<typeof PublishRequestSchema>): boolean {
  if ("$unknown" in request || typeof request.project !== "string") return false;
  const batch = request.batch as Partial<Batch> | undefined;
  if (batch === undefined) return true;
  if (batch.$typeName !== "espmesh.v1.Batch" || "$unknown" in batch) return false;
  if (typeof batch.window !== "string" || typeof batch.schemaFingerprint !== "string") return false;
  if (typeof batch.count !== "number" || !(batch.opcodes instanceof Uint8Array)) return false;
  if (!Array.isArray(batch.columns) || typeof batch.traceContext !== "object") return false;
  if (batch.schema !== undefined && batch.schema.$typeName !== "espmesh.v1.Schema") return false;
  if (batch.origin !== undefined && (typeof batch.origin.sourceId !== "string" || typeof batch.origin.seq !== "bigint"))
    return false;
  return batch.columns.every(
    (column) =>
      column.values instanceof Uint8Array && column.lengths instanceof Uint8Array && column.nulls instanceof Uint8Array,
  );
}

/**
 * The bytes of a `PublishRequest`: the same as `toBinary(PublishRequestSchema, create(…, request))`,
 * written in one pass when the request holds a complete `Batch` message (as `encodeBatch` makes).
 */
export function writePublishRequest(request: MessageInitShape<typeof PublishRequestSchema>): Uint8Array {
  if (!isComplete(request)) return toBinary(PublishRequestSchema, create(PublishRequestSchema, request));
  const project = utf8Of(request.project ?? "");
  const batch = request.batch as Batch | undefined;
  let size = omittableSize(project.byteLength) + (request.coalesceAcks === true ? 2 : 0);
  let frame: BatchFrame | undefined;
  let batchSize = 0;
  if (batch !== undefined) {
    const schema = batch.schema === undefined ? undefined : encodedSchema(batch.schema);
    frame = planBatchFrame(batch, batch.count, batch.schemaFingerprint, schema);
    batchSize = frame.size + omittableSize(batch.opcodes.byteLength);
    for (const column of batch.columns) {
      batchSize += messageSize(
        omittableSize(column.values.byteLength) +
          omittableSize(column.lengths.byteLength) +
          omittableSize(column.nulls.byteLength),
      );
    }
    size += messageSize(batchSize);
  }
  const w = new WireWriter(carve(size));
  w.omittable(1, project);
  if (batch !== undefined && frame !== undefined) {
    w.header(2, batchSize);
    writeBatchHead(w, frame);
    w.omittable(5, batch.opcodes);
    for (const column of batch.columns) {
      w.header(
        6,
        omittableSize(column.values.byteLength) +
          omittableSize(column.lengths.byteLength) +
          omittableSize(column.nulls.byteLength),
      );
      w.omittable(1, column.values);
      w.omittable(2, column.lengths);
      w.omittable(3, column.nulls);
    }
    writeBatchTail(w, frame);
  }
  if (request.coalesceAcks === true) {
    w.tag(3, VARINT);
    w.varint(1);
  }
  return w.done();
}
