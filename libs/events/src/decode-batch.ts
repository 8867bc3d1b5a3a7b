import type * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import { allocateValues, bitIsSet, bitmapBytes, EMPTY_BYTES, trimBitmap } from "./columns.js";
import { invalidArgument } from "./errors.js";
import { isOpcode } from "./opcodes.js";
import { createSchemaCache, type SchemaCache } from "./schema-cache.js";
import { schemaFromProto } from "./schema-proto.js";
import { float64s, int32s, uint8s } from "./slab.js";
import type { Batch, Column, ColumnValues, FieldDef, Schema } from "./types.js";
import { decodeUtf8, isContinuationByte, utf16Length } from "./utf8.js";
import { LITTLE_ENDIAN, unpackFixed, unpackInt64, viewUint32 } from "./wire.js";

const MONEY_SCALE = 1e6;

/**
 * The batch of a wire message. The schema comes from the cache by fingerprint when it holds it,
 * else from the message (and is then added to the cache). The batch owns its storage: nothing
 * refers to the message's bytes afterwards.
 * @throws MeshError FAILED_PRECONDITION when the message carries no schema and the cache does not
 * know its fingerprint; INVALID_ARGUMENT (details: window, field, row) when the message is malformed
 * or an int64 value is not a safe integer.
 */
export function decodeBatch(message: pb.Batch, cache?: SchemaCache): Batch {
  const window = message.window;
  const schema = resolveSchema(message, cache);
  const count = message.count;
  if (message.opcodes.length !== count) {
    throw invalidArgument(`batch for window "${window}": ${message.opcodes.length} opcodes for ${count} events`, {
      window,
    });
  }
  const opcodes = uint8s(count);
  opcodes.set(message.opcodes);
  for (let i = 0; i < count; i++) {
    if (!isOpcode(opcodes[i])) {
      throw invalidArgument(`batch for window "${window}", row ${i}: invalid opcode ${opcodes[i]}`, { window, row: i });
    }
  }
  if (message.columns.length !== schema.fields.length) {
    throw invalidArgument(
      `batch for window "${window}": ${message.columns.length} columns for ${schema.fields.length} fields`,
      { window },
    );
  }
  const columns = schema.fields.map((field, f) => decodeColumn(field, message.columns[f] as pb.Column, count, window));
  return { schema, length: count, opcodes, columns };
}

/** Schemas recently built from messages that carried them, so a repeated schema is built once. */
const recentSchemas = createSchemaCache({ maxSchemas: 256 });

function resolveSchema(message: pb.Batch, cache: SchemaCache | undefined): Schema {
  const fingerprint = message.schemaFingerprint;
  if (fingerprint.length > 0) {
    const cached = cache?.get(fingerprint);
    if (cached !== undefined) return cached;
    const recent = message.schema === undefined ? undefined : recentSchemas.get(fingerprint);
    if (recent !== undefined) {
      cache?.add(recent);
      return recent;
    }
  }
  if (message.schema === undefined) {
    throw new MeshError(
      "FAILED_PRECONDITION",
      `batch for window "${message.window}" refers to schema ${JSON.stringify(fingerprint)}, which this stream has not sent`,
      { details: { window: message.window } },
    );
  }
  const schema = schemaFromProto(message.schema);
  if (fingerprint.length > 0 && fingerprint !== schema.fingerprint) {
    throw invalidArgument(
      `batch for window "${message.window}": schema fingerprint ${fingerprint} does not match its schema (${schema.fingerprint})`,
      { window: message.window },
    );
  }
  cache?.add(schema);
  recentSchemas.add(schema);
  return schema;
}

/** The error of a malformed column, naming the window, the field and the row when known. */
function columnError(window: string, field: FieldDef, reason: string, row?: number, cause?: unknown): MeshError {
  return new MeshError(
    "INVALID_ARGUMENT",
    `batch for window "${window}", field "${field.name}"${row === undefined ? "" : `, row ${row}`}: ${reason}`,
    { details: { window, field: field.name, ...(row === undefined ? {} : { row }) }, cause },
  );
}

function checkWidth(window: string, field: FieldDef, bytes: Uint8Array, count: number, width: number): void {
  if (bytes.byteLength !== count * width) {
    const reason = `expected ${count * width} value bytes for ${count} ${field.type} values, got ${bytes.byteLength}`;
    throw columnError(window, field, reason);
  }
}

/** `into` (a typed array of the platform's byte order, little-endian here) holding the wire `bytes`. */
function filled<T extends Int32Array | Float64Array>(into: T, bytes: Uint8Array): T {
  new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(bytes);
  return into;
}

function decodeColumn(field: FieldDef, column: pb.Column, count: number, window: string): Column {
  const bytes = column.values;
  let values: ColumnValues;
  switch (field.type) {
    case "int32":
      checkWidth(window, field, bytes, count, 4);
      values = LITTLE_ENDIAN ? filled(int32s(count), bytes) : new Int32Array(unpackFixed(bytes, 4));
      break;
    case "double":
      checkWidth(window, field, bytes, count, 8);
      values = LITTLE_ENDIAN ? filled(float64s(count), bytes) : new Float64Array(unpackFixed(bytes, 8));
      break;
    case "int64":
    case "date":
    case "stamp":
    case "money": {
      checkWidth(window, field, bytes, count, 8);
      const decoded = unpackInt64(bytes, count, field.type === "money" ? MONEY_SCALE : 1);
      if (typeof decoded === "number") {
        throw columnError(window, field, "value is not a safe integer (|v| <= 2^53-1)", decoded);
      }
      values = decoded;
      break;
    }
    case "boolean": {
      checkWidth(window, field, bytes, count, 1);
      const booleans = uint8s(count);
      booleans.set(bytes);
      for (let i = 0; i < count; i++) {
        if ((booleans[i] as number) > 1) throw columnError(window, field, "boolean byte is not 0 or 1", i);
      }
      values = booleans;
      break;
    }
    case "string":
    case "blob": {
      if (column.lengths.byteLength !== count * 4) {
        const reason = `expected ${count * 4} length bytes for ${count} values, got ${column.lengths.byteLength}`;
        throw columnError(window, field, reason);
      }
      const lengths = viewUint32(column.lengths, count);
      let total = 0;
      for (let i = 0; i < count; i++) total += lengths[i] as number;
      if (total !== bytes.byteLength) {
        throw columnError(window, field, `lengths add up to ${total} bytes, values hold ${bytes.byteLength}`);
      }
      values =
        field.type === "string"
          ? decodeStrings(bytes, lengths, count, window, field)
          : decodeBlobs(bytes, lengths, count);
      break;
    }
  }
  const nulls = decodeNulls(column.nulls, count, window, field);
  if (nulls !== undefined) clearNullSlots(field, values, nulls, count);
  return { type: field.type, values, nulls };
}

/**
 * Strings: the whole column decoded at once. When the text has as many characters as bytes it is
 * ASCII and the byte offsets are character offsets; otherwise the character offsets are counted
 * from the bytes.
 */
function decodeStrings(
  bytes: Uint8Array,
  lengths: Uint32Array,
  count: number,
  window: string,
  field: FieldDef,
): string[] {
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch (error) {
    throw columnError(window, field, "values are not valid UTF-8", undefined, error);
  }
  const strings = new Array<string>(count);
  let offset = 0;
  if (text.length === bytes.byteLength) {
    for (let i = 0; i < count; i++) {
      const end = offset + (lengths[i] as number);
      strings[i] = text.substring(offset, end);
      offset = end;
    }
    return strings;
  }
  let charOffset = 0;
  for (let i = 0; i < count; i++) {
    const length = lengths[i] as number;
    if (length > 0 && isContinuationByte(bytes, offset))
      throw columnError(window, field, "string does not start on a UTF-8 character", i);
    const chars = utf16Length(bytes, offset, offset + length);
    strings[i] = text.substring(charOffset, charOffset + chars);
    charOffset += chars;
    offset += length;
  }
  return strings;
}

function decodeBlobs(bytes: Uint8Array, lengths: Uint32Array, count: number): Uint8Array[] {
  const owned = bytes.slice();
  const blobs = new Array<Uint8Array>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const end = offset + (lengths[i] as number);
    blobs[i] = end === offset ? EMPTY_BYTES : owned.subarray(offset, end);
    offset = end;
  }
  return blobs;
}

function decodeNulls(bytes: Uint8Array, count: number, window: string, field: FieldDef): Uint8Array | undefined {
  if (bytes.byteLength === 0) return undefined;
  if (bytes.byteLength !== bitmapBytes(count)) {
    const reason = `expected ${bitmapBytes(count)} null bitmap bytes for ${count} values, got ${bytes.byteLength}`;
    throw columnError(window, field, reason);
  }
  return trimBitmap(bytes.slice(), count);
}

/** Null rows hold the type's zero in memory, whatever the sender put in their slots. */
function clearNullSlots(field: FieldDef, values: ColumnValues, nulls: Uint8Array, count: number): void {
  const zero = allocateValues(field.type, 1)[0];
  for (let i = 0; i < count; i++) if (bitIsSet(nulls, i)) values[i] = zero as never;
}
