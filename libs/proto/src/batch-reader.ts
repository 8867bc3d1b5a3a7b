/**
 * Hand-written readers for the two requests that carry every event into the mesh: a balancer's
 * `PublishRequest` and a worker's `ProcessRequest` with a batch. The generic protobuf-es reader
 * walks each message through reflection and builds every nested message field by field, about a
 * tenth of a balancer's time per batch; these read the fixed layout of `Batch` in one pass, with
 * byte fields as views of the received bytes (as protobuf-es gives them). They return exactly
 * what `fromBinary` returns (tested), and hand anything they do not expect (an unknown field,
 * a nested message repeated, a varint past 2^53, another `ProcessRequest` case) to `fromBinary`.
 */
import { fromBinary } from "@bufbuild/protobuf";
import type { Batch, Column, Origin, Schema } from "./gen/espmesh/v1/events_pb.js";
import { SchemaSchema } from "./gen/espmesh/v1/events_pb.js";
import { type PublishRequest, PublishRequestSchema } from "./gen/espmesh/v1/ingest_pb.js";
import { type ProcessRequest, ProcessRequestSchema } from "./gen/espmesh/v1/worker_pb.js";
import { LEN, VARINT } from "./wire-writer.js";

const TWO_28 = 2 ** 28;

/** Thrown inside a reader when the message is not in the shape it reads; the caller falls back. */
class Unexpected extends Error {}
const unexpected = new Unexpected();

// Fatal, as protobuf-es reads proto3 strings: invalid UTF-8 is an error, not U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The last bytes and string of one kind of field (window, fingerprint, project, source id):
 * every batch of a stream repeats them, and comparing a few bytes is cheaper than decoding.
 */
class StringSlot {
  private bytes = new Uint8Array(0);
  private text = "";

  read(buf: Uint8Array, start: number, end: number): string {
    const length = end - start;
    const last = this.bytes;
    if (length === last.length && length <= 64) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (buf[start + i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.text;
    }
    const text = utf8.decode(buf.subarray(start, end));
    if (length <= 64) {
      this.bytes = buf.slice(start, end);
      this.text = text;
    }
    return text;
  }
}

/**
 * The last `Schema` read and its bytes: a publisher may attach the schema to every batch, and
 * reading it through protobuf-es each time would cost more than the rest of the batch. The
 * message is shared by the batches that carried the same bytes (nothing in the mesh changes a
 * received message).
 */
class SchemaSlot {
  private bytes = new Uint8Array(0);
  private schema: Schema | undefined;

  read(bytes: Uint8Array): Schema {
    const last = this.bytes;
    if (this.schema !== undefined && bytes.length === last.length) {
      let same = true;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.schema;
    }
    const schema = fromBinary(SchemaSchema, bytes);
    this.bytes = bytes.slice();
    this.schema = schema;
    return schema;
  }
}

const schemaSlot = new SchemaSlot();
const windowSlot = new StringSlot();
const fingerprintSlot = new StringSlot();
const projectSlot = new StringSlot();
const sourceSlot = new StringSlot();

/** A position in the bytes and the end of the message being read (moved in and out of nested ones). */
class Reader {
  pos = 0;

  constructor(
    readonly buf: Uint8Array,
    public end: number,
  ) {}

  /** An unsigned varint up to 2^53 − 1 (protobuf-es reads the same bits as a bigint or number). */
  varint(): number {
    const buf = this.buf;
    let low = 0;
    let shift = 0;
    let byte: number;
    // The first four bytes (28 bits) in int arithmetic, the rest scaled.
    do {
      if (this.pos >= this.end) throw unexpected;
      byte = buf[this.pos++] as number;
      low |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 28);
    if (byte < 0x80) return low >>> 0;
    let value = low >>> 0;
    let scale = TWO_28;
    do {
      if (this.pos >= this.end || scale > 2 ** 49) throw unexpected;
      byte = buf[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte >= 0x80);
    if (value > Number.MAX_SAFE_INTEGER) throw unexpected;
    return value;
  }

  /** The end of a length-delimited field whose length was just read. */
  limit(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw unexpected;
    return end;
  }

  bytes(): Uint8Array {
    const end = this.limit();
    const bytes = this.buf.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  string(slot?: StringSlot): string {
    const end = this.limit();
    const text = slot ? slot.read(this.buf, this.pos, end) : utf8.decode(this.buf.subarray(this.pos, end));
    this.pos = end;
    return text;
  }

  /** The next tag (field number and wire type), 0 at the end of the message being read. */
  tag(): number {
    if (this.pos >= this.end) return 0;
    const tag = this.varint();
    if (tag === 0) throw unexpected;
    return tag;
  }

  /** Enters the length-delimited field the reader stands on; returns the end to {@link leave} with. */
  enter(): number {
    const end = this.limit();
    const outer = this.end;
    this.end = end;
    return outer;
  }

  /** Leaves a nested message (its end must have been reached). */
  leave(outer: number): void {
    if (this.pos !== this.end) throw unexpected;
    this.end = outer;
  }
}

const EMPTY = new Uint8Array(0);

function readColumn(r: Reader): Column {
  const outer = r.enter();
  const column: Column = { $typeName: "espmesh.v1.Column", values: EMPTY, lengths: EMPTY, nulls: EMPTY };
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    if (tag === ((1 << 3) | LEN)) column.values = r.bytes();
    else if (tag === ((2 << 3) | LEN)) column.lengths = r.bytes();
    else if (tag === ((3 << 3) | LEN)) column.nulls = r.bytes();
    else throw unexpected;
  }
  r.leave(outer);
  return column;
}

function readOrigin(r: Reader): Origin {
  const outer = r.enter();
  const origin: Origin = { $typeName: "espmesh.v1.Origin", sourceId: "", seq: 0n };
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    if (tag === ((1 << 3) | LEN)) origin.sourceId = r.string(sourceSlot);
    else if (tag === ((2 << 3) | VARINT)) origin.seq = BigInt(r.varint());
    else throw unexpected;
  }
  r.leave(outer);
  return origin;
}

function readTraceEntry(r: Reader, into: Record<string, string>): void {
  const outer = r.enter();
  let key = "";
  let value = "";
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    if (tag === ((1 << 3) | LEN)) key = r.string();
    else if (tag === ((2 << 3) | LEN)) value = r.string();
    else throw unexpected;
  }
  r.leave(outer);
  into[key] = value;
}

/** A `Batch` from the length-delimited field the reader stands on. */
function readBatch(r: Reader): Batch {
  const outer = r.enter();
  const batch: Batch = {
    $typeName: "espmesh.v1.Batch",
    window: "",
    schemaFingerprint: "",
    schema: undefined,
    count: 0,
    opcodes: EMPTY,
    columns: [],
    origin: undefined,
    traceContext: {},
  };
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    switch (tag) {
      case (1 << 3) | LEN:
        batch.window = r.string(windowSlot);
        break;
      case (2 << 3) | LEN:
        batch.schemaFingerprint = r.string(fingerprintSlot);
        break;
      case (3 << 3) | LEN: {
        // A repeated schema field would merge: left to the generic reader.
        if (batch.schema !== undefined) throw unexpected;
        batch.schema = schemaSlot.read(r.bytes());
        break;
      }
      case (4 << 3) | VARINT: {
        const count = r.varint();
        if (count > 0xffffffff) throw unexpected;
        batch.count = count;
        break;
      }
      case (5 << 3) | LEN:
        batch.opcodes = r.bytes();
        break;
      case (6 << 3) | LEN:
        batch.columns.push(readColumn(r));
        break;
      case (7 << 3) | LEN:
        if (batch.origin !== undefined) throw unexpected;
        batch.origin = readOrigin(r);
        break;
      case (8 << 3) | LEN:
        readTraceEntry(r, batch.traceContext);
        break;
      default:
        throw unexpected;
    }
  }
  r.leave(outer);
  return batch;
}

function fastPublishRequest(bytes: Uint8Array): PublishRequest {
  const r = new Reader(bytes, bytes.byteLength);
  const request: PublishRequest = {
    $typeName: "espmesh.v1.PublishRequest",
    project: "",
    batch: undefined,
    coalesceAcks: false,
  };
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    if (tag === ((1 << 3) | LEN)) request.project = r.string(projectSlot);
    else if (tag === ((2 << 3) | LEN) && request.batch === undefined) request.batch = readBatch(r);
    else if (tag === ((3 << 3) | VARINT)) request.coalesceAcks = r.varint() !== 0;
    else throw unexpected;
  }
  return request;
}

function fastProcessRequest(bytes: Uint8Array): ProcessRequest {
  const r = new Reader(bytes, bytes.byteLength);
  // Only a request that is one `batch` case: ProcessBatch{seq = 1, batch = 2}.
  if (r.tag() !== ((2 << 3) | LEN)) throw unexpected;
  r.enter();
  let seq = 0n;
  let batch: Batch | undefined;
  for (let tag = r.tag(); tag !== 0; tag = r.tag()) {
    if (tag === ((1 << 3) | VARINT)) seq = BigInt(r.varint());
    else if (tag === ((2 << 3) | LEN) && batch === undefined) batch = readBatch(r);
    else throw unexpected;
  }
  if (r.pos !== bytes.byteLength) throw unexpected;
  return {
    $typeName: "espmesh.v1.ProcessRequest",
    kind: { case: "batch", value: { $typeName: "espmesh.v1.ProcessBatch", seq, batch } },
  };
}

/** What a one-pass reader read, or undefined when the bytes are not in the shape it reads. */
function attempt<T>(read: (bytes: Uint8Array) => T, bytes: Uint8Array): T | undefined {
  try {
    return read(bytes);
  } catch (error) {
    if (error !== unexpected) throw error;
    return undefined;
  }
}

/** The request read by the one-pass reader, or undefined when it is not in the shape that reader reads. */
export function tryReadPublishRequest(bytes: Uint8Array): PublishRequest | undefined {
  return attempt(fastPublishRequest, bytes);
}

/** The request read by the one-pass reader, or undefined when it is not one `batch` case. */
export function tryReadProcessRequest(bytes: Uint8Array): ProcessRequest | undefined {
  return attempt(fastProcessRequest, bytes);
}

/**
 * Reads a `PublishRequest`; the same message as `fromBinary(PublishRequestSchema, bytes)`.
 * @throws what `fromBinary` throws for malformed bytes.
 */
export function readPublishRequest(bytes: Uint8Array): PublishRequest {
  return tryReadPublishRequest(bytes) ?? fromBinary(PublishRequestSchema, bytes);
}

/**
 * Reads a `ProcessRequest`; the same message as `fromBinary(ProcessRequestSchema, bytes)`.
 * @throws what `fromBinary` throws for malformed bytes.
 */
export function readProcessRequest(bytes: Uint8Array): ProcessRequest {
  return tryReadProcessRequest(bytes) ?? fromBinary(ProcessRequestSchema, bytes);
}
