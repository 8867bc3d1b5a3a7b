/**
 * Row selection on wire batches. The balancer only needs the hash fields to place rows, so it
 * decodes those columns alone and cuts sub-batches straight from the published bytes: no column
 * is decoded into JavaScript values, and no string is decoded or re-encoded, on the way to a
 * worker (which decodes and validates everything itself).
 */
import { create } from "@bufbuild/protobuf";
import { type Batch, createSchema, decodeBatch, type FieldType, type Schema, type SchemaCache } from "@espmesh/events";
import { bitIsSet, bitmapBytes, LITTLE_ENDIAN, setBit, unpackFixed } from "@espmesh/events/internal";
import * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";

const WIDTH: Record<FieldType, number> = {
  int32: 4,
  int64: 8,
  double: 8,
  money: 8,
  string: 0,
  date: 8,
  stamp: 8,
  boolean: 1,
  blob: 0,
};

/** The hash fields of a source as a schema of their own, and where they sit in the full schema. */
export interface KeyLayout {
  readonly schema: Schema;
  readonly indexes: readonly number[];
}

/** The {@link KeyLayout} of some fields of a schema. */
export function keyLayout(schema: Schema, indexes: readonly number[]): KeyLayout {
  const fields = indexes.map((index) => {
    const field = schema.fields[index]!;
    return { name: field.name, type: field.type, key: true };
  });
  return { schema: createSchema(fields), indexes };
}

/**
 * The hash-field columns of a wire batch, decoded (and validated) alone; hashing its fields
 * 0 … k−1 gives the same key hash as hashing the full batch's hash fields.
 */
export function decodeKeys(message: pb.Batch, layout: KeyLayout, cache: SchemaCache): Batch {
  cache.add(layout.schema);
  const keys = create(pb.BatchSchema, {
    window: message.window,
    schemaFingerprint: layout.schema.fingerprint,
    count: message.count,
    opcodes: message.opcodes,
    columns: layout.indexes.map((index) => message.columns[index]!),
  });
  return decodeBatch(keys, cache);
}

/**
 * Checks the byte layout of every column (value bytes, lengths, null bitmap) against the count,
 * so sub-batches can be cut without surprises.
 * @throws MeshError INVALID_ARGUMENT naming the window and field.
 */
export function checkWireLayout(message: pb.Batch, schema: Schema): void {
  const count = message.count;
  const fail = (field: string, reason: string) =>
    new MeshError("INVALID_ARGUMENT", `batch for window "${message.window}", field "${field}": ${reason}`, {
      details: { window: message.window, field },
    });
  if (message.opcodes.byteLength !== count) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `batch for window "${message.window}": ${message.opcodes.byteLength} opcodes for ${count} events`,
      {
        details: { window: message.window },
      },
    );
  }
  if (message.columns.length !== schema.fields.length) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `batch for window "${message.window}": ${message.columns.length} columns for ${schema.fields.length} fields`,
      {
        details: { window: message.window },
      },
    );
  }
  schema.fields.forEach((field, f) => {
    const column = message.columns[f]!;
    const width = WIDTH[field.type];
    if (width > 0 && column.values.byteLength !== count * width) {
      throw fail(field.name, `expected ${count * width} value bytes, got ${column.values.byteLength}`);
    }
    if (width === 0) {
      if (column.lengths.byteLength !== count * 4) throw fail(field.name, `expected ${count * 4} length bytes`);
      const offsets = offsetsOf(column);
      if (offsets[count] !== column.values.byteLength)
        throw fail(field.name, "lengths do not add up to the value bytes");
    }
    if (column.nulls.byteLength !== 0 && column.nulls.byteLength !== bitmapBytes(count)) {
      throw fail(field.name, `expected ${bitmapBytes(count)} null bitmap bytes`);
    }
  });
}

const offsetCache = new WeakMap<pb.Column, Uint32Array>();

/** Start offsets of every value of a string or blob column, plus the end (count + 1 entries). */
function offsetsOf(column: pb.Column): Uint32Array {
  let offsets = offsetCache.get(column);
  if (offsets !== undefined) return offsets;
  const bytes = column.lengths;
  const count = bytes.byteLength >>> 2;
  const lengths =
    LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, count)
      : new Uint32Array(unpackFixed(bytes, 4));
  offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = (offsets[i] as number) + (lengths[i] as number);
  offsetCache.set(column, offsets);
  return offsets;
}

/**
 * A wire batch of the rows `rows[0 … count)` of another (checked by {@link checkWireLayout}),
 * with the same window, origin and trace context; the schema is attached when `schema` is given.
 */
export function selectWireRows(
  message: pb.Batch,
  fields: Schema,
  rows: Uint32Array,
  count: number,
  schema: pb.Schema | undefined,
): pb.Batch {
  const opcodes = new Uint8Array(count);
  const source = message.opcodes;
  for (let i = 0; i < count; i++) opcodes[i] = source[rows[i] as number] as number;
  const columns = fields.fields.map((field, f) => {
    const column = message.columns[f]!;
    const width = WIDTH[field.type];
    const values = width > 0 ? gatherFixed(column.values, width, rows, count) : gatherVariable(column, rows, count);
    return create(pb.ColumnSchema, {
      values: values.values,
      lengths: values.lengths,
      nulls: column.nulls.byteLength === 0 ? column.nulls : gatherBits(column.nulls, rows, count),
    });
  });
  return create(pb.BatchSchema, {
    window: message.window,
    schemaFingerprint: message.schemaFingerprint || fields.fingerprint,
    ...(schema === undefined ? {} : { schema }),
    count,
    opcodes,
    columns,
    ...(message.origin === undefined ? {} : { origin: message.origin }),
    traceContext: message.traceContext,
  });
}

const EMPTY = new Uint8Array(0);

const wordCache = new WeakMap<Uint8Array, Int32Array>();

/** A column's bytes as 32-bit words (a view when aligned, else one aligned copy, cached). */
function wordsOf(bytes: Uint8Array): Int32Array {
  if ((bytes.byteOffset & 3) === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  let words = wordCache.get(bytes);
  if (words === undefined) {
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    words = new Int32Array(copy.buffer);
    wordCache.set(bytes, words);
  }
  return words;
}

/**
 * Fixed-width values of the selected rows, moved as opaque 32-bit words (never through a float,
 * which could rewrite NaN bit patterns of int64 values).
 */
function gatherFixed(bytes: Uint8Array, width: number, rows: Uint32Array, count: number) {
  if (width === 1) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = bytes[rows[i] as number] as number;
    return { values: out, lengths: EMPTY };
  }
  const words = wordsOf(bytes);
  const out = new Int32Array(count * (width >>> 2));
  if (width === 8) {
    for (let i = 0, o = 0; i < count; i++, o += 2) {
      const at = (rows[i] as number) << 1;
      out[o] = words[at] as number;
      out[o + 1] = words[at + 1] as number;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = words[rows[i] as number] as number;
  }
  return { values: new Uint8Array(out.buffer), lengths: EMPTY };
}

function gatherVariable(column: pb.Column, rows: Uint32Array, count: number) {
  const offsets = offsetsOf(column);
  const lengths = new Uint32Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i] as number;
    const length = (offsets[row + 1] as number) - (offsets[row] as number);
    lengths[i] = length;
    total += length;
  }
  const source = column.values;
  const out = new Uint8Array(total);
  for (let i = 0, o = 0; i < count; i++) {
    const start = offsets[rows[i] as number] as number;
    const length = lengths[i] as number;
    if (length > 32) out.set(source.subarray(start, start + length), o);
    else for (let b = 0; b < length; b++) out[o + b] = source[start + b] as number;
    o += length;
  }
  const lengthBytes = new Uint8Array(lengths.buffer);
  return { values: out, lengths: LITTLE_ENDIAN ? lengthBytes : swap32(lengthBytes) };
}

function swap32(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const a = bytes[i] as number;
    const b = bytes[i + 1] as number;
    bytes[i] = bytes[i + 3] as number;
    bytes[i + 1] = bytes[i + 2] as number;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
  return bytes;
}

function gatherBits(bitmap: Uint8Array, rows: Uint32Array, count: number): Uint8Array {
  const out = new Uint8Array(bitmapBytes(count));
  let any = false;
  for (let i = 0; i < count; i++) {
    if (bitIsSet(bitmap, rows[i] as number)) {
      setBit(out, i);
      any = true;
    }
  }
  return any ? out : EMPTY;
}
