import { create } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import { bitmapBytes } from "./columns.js";
import { schemaToProto } from "./schema-proto.js";
import type { Batch, Column } from "./types.js";
import { encodeUtf8, utf8Length } from "./utf8.js";
import { packFixed, packInt64, uninitializedBuffer } from "./wire.js";

/** Options of {@link encodeBatch}. */
export interface EncodeBatchOptions {
  /** The window the events belong to. */
  readonly window: string;
  /** Where the batch entered the mesh. @default none */
  readonly origin?: { readonly sourceId: string; readonly seq: number };
  /** Whether to carry the schema itself, not only its fingerprint. @default true */
  readonly includeSchema?: boolean;
}

const EMPTY = new Uint8Array(0);
const MONEY_SCALE = 1e6;

/**
 * The wire message of a batch (see the README for the layout). Fixed-width columns are views of
 * the batch's arrays where the platform allows, so do not change the batch while the message is in
 * use.
 */
export function encodeBatch(batch: Batch, options: EncodeBatchOptions): pb.Batch {
  const count = batch.length;
  const columns = batch.columns.map((column) => create(pb.ColumnSchema, encodeColumn(column, count)));
  const message = create(pb.BatchSchema, {
    window: options.window,
    schemaFingerprint: batch.schema.fingerprint,
    count,
    opcodes: batch.opcodes.length === count ? batch.opcodes : batch.opcodes.subarray(0, count),
    columns,
  });
  if (options.includeSchema !== false) message.schema = schemaToProto(batch.schema);
  if (options.origin !== undefined) {
    message.origin = create(pb.OriginSchema, { sourceId: options.origin.sourceId, seq: BigInt(options.origin.seq) });
  }
  return message;
}

interface ColumnParts {
  values: Uint8Array;
  lengths: Uint8Array;
  nulls: Uint8Array;
}

function encodeColumn(column: Column, count: number): ColumnParts {
  const nulls = encodeNulls(column.nulls, count);
  switch (column.type) {
    case "int32":
      return { values: packFixed(column.values as Int32Array, count), lengths: EMPTY, nulls };
    case "double":
      return { values: packFixed(column.values as Float64Array, count), lengths: EMPTY, nulls };
    case "int64":
    case "date":
    case "stamp":
      return { values: packInt64(column.values as Float64Array, count, 1), lengths: EMPTY, nulls };
    case "money":
      return { values: packInt64(column.values as Float64Array, count, MONEY_SCALE), lengths: EMPTY, nulls };
    case "boolean": {
      const values = column.values as Uint8Array;
      return { values: values.length === count ? values : values.subarray(0, count), lengths: EMPTY, nulls };
    }
    case "string":
      return { ...encodeStrings(column.values as string[], count), nulls };
    case "blob":
      return { ...encodeBlobs(column.values as Uint8Array[], count), nulls };
  }
}

function encodeNulls(bitmap: Uint8Array | undefined, count: number): Uint8Array {
  if (bitmap === undefined || count === 0) return EMPTY;
  const bytes = bitmapBytes(count);
  const tail = count & 7;
  let any = 0;
  for (let i = 0; i < bytes - 1; i++) any |= bitmap[i] as number;
  const last = tail === 0 ? (bitmap[bytes - 1] as number) : (bitmap[bytes - 1] as number) & ((1 << tail) - 1);
  if ((any | last) === 0) return EMPTY;
  const out = bitmap.slice(0, bytes);
  out[bytes - 1] = last;
  return out;
}

/**
 * Strings: the whole column encoded at once (one concatenation, one TextEncoder call). When the
 * byte count equals the character count the text is ASCII and the lengths are the string lengths;
 * otherwise each string's UTF-8 length is counted.
 */
function encodeStrings(strings: string[], count: number): { values: Uint8Array; lengths: Uint8Array } {
  const lengths = new Uint32Array(uninitializedBuffer(count * 4));
  // A concatenation loop is faster than Array.prototype.join for the many short strings of a column.
  let text = "";
  for (let i = 0; i < count; i++) {
    const s = strings[i] as string;
    text += s;
    lengths[i] = s.length;
  }
  const values = encodeUtf8(text);
  if (values.length !== text.length) {
    for (let i = 0; i < count; i++) lengths[i] = utf8Length(strings[i] as string);
  }
  return { values, lengths: packFixed(lengths, count) };
}

function encodeBlobs(blobs: Uint8Array[], count: number): { values: Uint8Array; lengths: Uint8Array } {
  const lengths = new Uint32Array(uninitializedBuffer(count * 4));
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = (blobs[i] as Uint8Array).byteLength;
    lengths[i] = length;
    total += length;
  }
  const values = new Uint8Array(uninitializedBuffer(total));
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const blob = blobs[i] as Uint8Array;
    values.set(blob, offset);
    offset += blob.byteLength;
  }
  return { values, lengths: packFixed(lengths, count) };
}
