/**
 * Wire batches as the balancer reads them. It only needs the hash fields to place rows, so it
 * decodes those columns alone and checks the byte layout of the others; sub-batches are cut
 * straight from the published bytes (`process-encoder.ts`): no column is decoded into JavaScript
 * values, and no string is decoded or re-encoded, on the way to a worker (which decodes and
 * validates everything itself).
 */
import {
  type Batch,
  createSchema,
  decodeBatch,
  type FieldType,
  hashWireRows,
  isOpcode,
  type Schema,
  type SchemaCache,
} from "@espmesh/events";
import { bitmapBytes, LITTLE_ENDIAN, uint32s } from "@espmesh/events/internal";
import type * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";

/** Bytes per value of each fixed-width type on the wire; 0 = variable (lengths column). */
export const FIELD_WIDTH: Record<FieldType, number> = {
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
 * The key hashes of a wire batch's rows, read from the bytes of its hash-field columns (see
 * `hashWireRows`), or undefined when they must be decoded ({@link decodeKeys}): a key type or
 * value the wire reader leaves to the decoder, or an invalid opcode (the decoder rejects it).
 */
export function wireKeyHashes(message: pb.Batch, layout: KeyLayout): Uint32Array | undefined {
  const opcodes = message.opcodes;
  for (let i = 0; i < opcodes.length; i++) if (!isOpcode(opcodes[i])) return undefined;
  const columns: pb.Column[] = [];
  const types: FieldType[] = [];
  for (let k = 0; k < layout.indexes.length; k++) {
    const column = message.columns[layout.indexes[k] as number];
    if (column === undefined) return undefined;
    columns.push(column);
    types.push((layout.schema.fields[k] as { type: FieldType }).type);
  }
  return hashWireRows(columns, types, message.count);
}

/**
 * The hash-field columns of a wire batch, decoded (and validated) alone; hashing its fields
 * 0 … k−1 gives the same key hash as hashing the full batch's hash fields.
 */
export function decodeKeys(message: pb.Batch, layout: KeyLayout, cache: SchemaCache): Batch {
  cache.add(layout.schema);
  // A plain message value, not `create()`: this runs for every published batch.
  const keys: pb.Batch = {
    $typeName: "espmesh.v1.Batch",
    window: message.window,
    schemaFingerprint: layout.schema.fingerprint,
    count: message.count,
    opcodes: message.opcodes,
    columns: layout.indexes.map((index) => message.columns[index]!),
    traceContext: {},
  };
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
    const width = FIELD_WIDTH[field.type];
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
export function offsetsOf(column: pb.Column): Uint32Array {
  let offsets = offsetCache.get(column);
  if (offsets !== undefined) return offsets;
  const bytes = column.lengths;
  const count = bytes.byteLength >>> 2;
  offsets = uint32s(count + 1);
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) {
    const lengths = new Uint32Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) offsets[i + 1] = (offsets[i] as number) + (lengths[i] as number);
  } else {
    // Unaligned (as in most received messages): read the little-endian words byte by byte
    // rather than copying them into an aligned buffer first.
    for (let i = 0, b = 0; i < count; i++, b += 4) {
      const length =
        ((bytes[b] as number) |
          ((bytes[b + 1] as number) << 8) |
          ((bytes[b + 2] as number) << 16) |
          ((bytes[b + 3] as number) << 24)) >>>
        0;
      offsets[i + 1] = (offsets[i] as number) + length;
    }
  }
  offsetCache.set(column, offsets);
  return offsets;
}
