/**
 * The wire bytes of a `ProcessRequest` carrying one sub-batch, written in one pass into one
 * buffer. The generic protobuf writer copies a column's bytes once per nesting level (column,
 * batch, process batch, request) and allocates a typed array per selected column on top; here
 * the selected rows are gathered straight into their place in the message. The bytes are those
 * `toBinary(ProcessRequestSchema, …)` writes for the same message (same fields, same order).
 */
import type { Schema } from "@espmesh/events";
import { bitIsSet, bitmapBytes, LITTLE_ENDIAN, setBit, wireWords } from "@espmesh/events/internal";
import type * as pb from "@espmesh/proto";
import {
  carve,
  EMPTY_BYTES,
  messageSize,
  omittableSize,
  planBatchFrame,
  VARINT,
  varintSize,
  WireWriter,
  writeBatchHead,
  writeBatchTail,
} from "@espmesh/proto";
import { FIELD_WIDTH, offsetsOf } from "./wire-rows.js";

/** Where a column of the sub-batch comes from, and its sizes. */
interface ColumnPlan {
  readonly column: pb.Column;
  readonly width: number;
  readonly offsets: Uint32Array | undefined;
  readonly valueBytes: number;
  readonly lengthBytes: number;
  /** The gathered null bitmap (empty when no selected row is null). */
  readonly nulls: Uint8Array;
  readonly size: number;
}

function planColumn(column: pb.Column, width: number, rows: Uint32Array | undefined, count: number): ColumnPlan {
  let valueBytes: number;
  let lengthBytes: number;
  let offsets: Uint32Array | undefined;
  let nulls = column.nulls;
  if (rows === undefined) {
    valueBytes = column.values.byteLength;
    lengthBytes = column.lengths.byteLength;
  } else {
    if (width > 0) {
      valueBytes = count * width;
      lengthBytes = 0;
    } else {
      offsets = offsetsOf(column);
      valueBytes = 0;
      for (let i = 0; i < count; i++) {
        const row = rows[i] as number;
        valueBytes += (offsets[row + 1] as number) - (offsets[row] as number);
      }
      lengthBytes = count * 4;
    }
    if (nulls.byteLength !== 0) nulls = gatherBits(nulls, rows, count);
  }
  const size = omittableSize(valueBytes) + omittableSize(lengthBytes) + omittableSize(nulls.byteLength);
  return { column, width, offsets, valueBytes, lengthBytes, nulls, size };
}

function gatherBits(bitmap: Uint8Array, rows: Uint32Array, count: number): Uint8Array {
  let out: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    if (bitIsSet(bitmap, rows[i] as number)) {
      out ??= new Uint8Array(bitmapBytes(count));
      setBit(out, i);
    }
  }
  return out ?? EMPTY_BYTES;
}

let words = new Int32Array(1024);
let lengths = new Uint32Array(1024);

/** Fixed-width values of the selected rows, moved as 32-bit words (never through a float, which could rewrite NaN payloads). */
function writeFixed(w: WireWriter, bytes: Uint8Array, width: number, rows: Uint32Array, count: number): void {
  const buf = w.buf;
  if (width === 1) {
    for (let i = 0; i < count; i++) buf[w.pos + i] = bytes[rows[i] as number] as number;
    w.pos += count;
    return;
  }
  const perRow = width >>> 2;
  const source = wireWords(bytes);
  if (words.length < count * perRow) words = new Int32Array(count * perRow * 2);
  const out = words;
  if (perRow === 2) {
    for (let i = 0, o = 0; i < count; i++, o += 2) {
      const at = (rows[i] as number) << 1;
      out[o] = source[at] as number;
      out[o + 1] = source[at + 1] as number;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = source[rows[i] as number] as number;
  }
  const n = count * width;
  buf.set(new Uint8Array(out.buffer, 0, n), w.pos);
  w.pos += n;
}

function writeVariable(w: WireWriter, plan: ColumnPlan, rows: Uint32Array, count: number): void {
  const offsets = plan.offsets as Uint32Array;
  const source = plan.column.values;
  const buf = w.buf;
  if (lengths.length < count) lengths = new Uint32Array(count * 2);
  const lens = lengths;
  if (plan.valueBytes > 0) {
    w.header(1, plan.valueBytes);
    let o = w.pos;
    for (let i = 0; i < count; i++) {
      const row = rows[i] as number;
      const start = offsets[row] as number;
      const length = (offsets[row + 1] as number) - start;
      lens[i] = length;
      if (length > 32) buf.set(source.subarray(start, start + length), o);
      else for (let b = 0; b < length; b++) buf[o + b] = source[start + b] as number;
      o += length;
    }
    w.pos = o;
  } else {
    lens.fill(0, 0, count);
  }
  if (plan.lengthBytes > 0) {
    w.header(2, plan.lengthBytes);
    const at = w.pos;
    buf.set(new Uint8Array(lens.buffer, 0, count * 4), at);
    if (!LITTLE_ENDIAN) swap32(buf, at, count);
    w.pos += count * 4;
  }
}

function swap32(bytes: Uint8Array, at: number, count: number): void {
  for (let i = at; i < at + count * 4; i += 4) {
    const a = bytes[i] as number;
    const b = bytes[i + 1] as number;
    bytes[i] = bytes[i + 3] as number;
    bytes[i + 1] = bytes[i + 2] as number;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

function writeColumn(w: WireWriter, plan: ColumnPlan, rows: Uint32Array | undefined, count: number): void {
  w.header(6, plan.size);
  const column = plan.column;
  if (rows === undefined) {
    w.omittable(1, column.values);
    w.omittable(2, column.lengths);
  } else if (plan.width > 0) {
    if (plan.valueBytes > 0) {
      w.header(1, plan.valueBytes);
      writeFixed(w, column.values, plan.width, rows, count);
    }
  } else {
    writeVariable(w, plan, rows, count);
  }
  w.omittable(3, plan.nulls);
}

/** What {@link encodeProcessBatch} writes. */
export interface ProcessBatchInput {
  /** The sequence number on the Process stream. */
  readonly seq: number;
  /** The published batch (checked by `checkWireLayout`). */
  readonly message: pb.Batch;
  /** Its window's schema. */
  readonly fields: Schema;
  /** The rows of the sub-batch, ascending; undefined = every row. */
  readonly rows: Uint32Array | undefined;
  /** Number of rows. */
  readonly count: number;
  /** The encoded `Schema` message to attach (the first batch of a schema on a stream), or undefined. */
  readonly schema: Uint8Array | undefined;
}

/**
 * The bytes of `ProcessRequest{batch: {seq, batch}}` where the batch holds the selected rows of
 * `message` with its window, fingerprint, origin and trace context.
 */
export function encodeProcessBatch(input: ProcessBatchInput): Uint8Array {
  const { message, fields, rows, count, seq } = input;
  const frame = planBatchFrame(message, count, message.schemaFingerprint || fields.fingerprint, input.schema);
  const plans: ColumnPlan[] = [];
  // The frame, then the opcodes (one byte per event) and the columns.
  let batchSize = frame.size + omittableSize(count);
  for (let f = 0; f < fields.fields.length; f++) {
    const field = fields.fields[f]!;
    const plan = planColumn(message.columns[f]!, FIELD_WIDTH[field.type], rows, count);
    plans.push(plan);
    batchSize += messageSize(plan.size);
  }
  const processBatchSize = (seq === 0 ? 0 : 1 + varintSize(seq)) + messageSize(batchSize);
  const w = new WireWriter(carve(messageSize(processBatchSize)));
  w.header(2, processBatchSize);
  if (seq !== 0) {
    w.tag(1, VARINT);
    w.varint(seq);
  }
  w.header(2, batchSize);
  writeBatchHead(w, frame);
  if (count !== 0) {
    w.header(5, count);
    if (rows === undefined) w.buf.set(message.opcodes, w.pos);
    else {
      const opcodes = message.opcodes;
      for (let i = 0; i < count; i++) w.buf[w.pos + i] = opcodes[rows[i] as number] as number;
    }
    w.pos += count;
  }
  for (const plan of plans) writeColumn(w, plan, rows, count);
  writeBatchTail(w, frame);
  return w.done();
}
