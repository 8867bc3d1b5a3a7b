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
import { FIELD_WIDTH, offsetsOf } from "./wire-rows.js";

const LEN = 2;
const VARINT = 0;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Bytes of an unsigned varint (n < 2^53). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field with `length` bytes of payload, 0 when proto3 omits it (empty). */
function omittableSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

/** Bytes of a length-delimited field that is always written (a message). */
function messageSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** UTF-8 of the strings every batch of a window repeats (window names, fingerprints). */
const stringCache = new Map<string, Uint8Array>();

function utf8Of(value: string): Uint8Array {
  let bytes = stringCache.get(value);
  if (bytes === undefined) {
    bytes = encoder.encode(value);
    if (stringCache.size >= 256) stringCache.clear();
    stringCache.set(value, bytes);
  }
  return bytes;
}

/** A uint64 (bigint) as a varint byte list, for the rare values above 2^53. */
function bigVarint(value: bigint): number[] {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return bytes;
}

class Writer {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  /** A length-delimited field, skipped when empty. */
  omittable(field: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.tag(field, LEN);
    this.varint(bytes.byteLength);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** The tag and length of a length-delimited field whose payload follows. */
  header(field: number, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
  }

  raw(bytes: readonly number[]): void {
    for (const byte of bytes) this.buf[this.pos++] = byte;
  }
}

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
  return out ?? EMPTY;
}

let words = new Int32Array(1024);
let lengths = new Uint32Array(1024);

/** Fixed-width values of the selected rows, moved as 32-bit words (never through a float, which could rewrite NaN payloads). */
function writeFixed(w: Writer, bytes: Uint8Array, width: number, rows: Uint32Array, count: number): void {
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

function writeVariable(w: Writer, plan: ColumnPlan, rows: Uint32Array, count: number): void {
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

function writeColumn(w: Writer, plan: ColumnPlan, rows: Uint32Array | undefined, count: number): void {
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

const SLAB_BYTES = 1024 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `size` bytes for one message, cut from a shared slab (one allocation per megabyte instead of
 * one per message; a slab is freed once gRPC copied out every message cut from it). Not zeroed:
 * the encoder writes every byte (checked). Regions are never handed out twice.
 */
function carve(size: number): Uint8Array {
  if (size > SLAB_BYTES / 8) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return bytes;
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
  const window = utf8Of(message.window);
  const fingerprint = utf8Of(message.schemaFingerprint || fields.fingerprint);
  const plans: ColumnPlan[] = [];
  let size = omittableSize(window.byteLength) + omittableSize(fingerprint.byteLength);
  if (input.schema !== undefined) size += messageSize(input.schema.byteLength);
  // The count, then the opcodes (one byte per event).
  if (count !== 0) size += 1 + varintSize(count) + 1 + varintSize(count) + count;
  for (let f = 0; f < fields.fields.length; f++) {
    const field = fields.fields[f]!;
    const plan = planColumn(message.columns[f]!, FIELD_WIDTH[field.type], rows, count);
    plans.push(plan);
    size += messageSize(plan.size);
  }
  const origin = message.origin;
  let sourceId: Uint8Array = EMPTY;
  let originSeq: number[] | number = 0;
  let originSize = 0;
  if (origin !== undefined) {
    sourceId = utf8Of(origin.sourceId);
    originSize = omittableSize(sourceId.byteLength);
    if (origin.seq !== 0n) {
      originSeq = origin.seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(origin.seq) : bigVarint(origin.seq);
      originSize += 1 + (typeof originSeq === "number" ? varintSize(originSeq) : originSeq.length);
    }
    size += messageSize(originSize);
  }
  const trace: [Uint8Array, Uint8Array, number][] = [];
  for (const key of Object.keys(message.traceContext)) {
    const k = encoder.encode(key);
    const v = encoder.encode(message.traceContext[key] ?? "");
    const entry = messageSize(k.byteLength) + messageSize(v.byteLength);
    trace.push([k, v, entry]);
    size += messageSize(entry);
  }
  const batchSize = size;
  const processBatchSize = (seq === 0 ? 0 : 1 + varintSize(seq)) + messageSize(batchSize);
  const total = messageSize(processBatchSize);

  const w = new Writer(carve(total));
  w.header(2, processBatchSize);
  if (seq !== 0) {
    w.tag(1, VARINT);
    w.varint(seq);
  }
  w.header(2, batchSize);
  w.omittable(1, window);
  w.omittable(2, fingerprint);
  if (input.schema !== undefined) {
    w.header(3, input.schema.byteLength);
    w.buf.set(input.schema, w.pos);
    w.pos += input.schema.byteLength;
  }
  if (count !== 0) {
    w.tag(4, VARINT);
    w.varint(count);
    w.header(5, count);
    if (rows === undefined) w.buf.set(message.opcodes, w.pos);
    else {
      const opcodes = message.opcodes;
      for (let i = 0; i < count; i++) w.buf[w.pos + i] = opcodes[rows[i] as number] as number;
    }
    w.pos += count;
  }
  for (const plan of plans) writeColumn(w, plan, rows, count);
  if (origin !== undefined) {
    w.header(7, originSize);
    w.omittable(1, sourceId);
    if (typeof originSeq === "number") {
      if (originSeq !== 0) {
        w.tag(2, VARINT);
        w.varint(originSeq);
      }
    } else {
      w.tag(2, VARINT);
      w.raw(originSeq);
    }
  }
  for (const [key, value, entry] of trace) {
    w.header(8, entry);
    w.header(1, key.byteLength);
    w.buf.set(key, w.pos);
    w.pos += key.byteLength;
    w.header(2, value.byteLength);
    w.buf.set(value, w.pos);
    w.pos += value.byteLength;
  }
  if (w.pos !== total) throw new Error(`process batch encoding wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}
