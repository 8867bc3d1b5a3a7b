import { MeshError } from "@espmesh/telemetry";
import type { Batch, Column, ColumnValues, FieldType, Value } from "./types.js";

/** The shared empty byte array: the value slot of a null blob. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Storage kinds of columns. */
export type StorageKind = "float64" | "int32" | "uint8" | "string" | "bytes";

/** The storage kind of a field type (see {@link FieldType}). */
export function storageOf(type: FieldType): StorageKind {
  switch (type) {
    case "int32":
      return "int32";
    case "boolean":
      return "uint8";
    case "string":
      return "string";
    case "blob":
      return "bytes";
    default:
      return "float64";
  }
}

/** Zero-filled column storage for `length` values of a type. */
export function allocateValues(type: FieldType, length: number): ColumnValues {
  switch (storageOf(type)) {
    case "int32":
      return new Int32Array(length);
    case "uint8":
      return new Uint8Array(length);
    case "string":
      return new Array<string>(length).fill("");
    case "bytes":
      return new Array<Uint8Array>(length).fill(EMPTY_BYTES);
    default:
      return new Float64Array(length);
  }
}

/** Number of bytes of a null bitmap for `length` rows. */
export function bitmapBytes(length: number): number {
  return (length + 7) >>> 3;
}

/** Whether bit `row` of a bitmap is set. */
export function bitIsSet(bitmap: Uint8Array, row: number): boolean {
  return ((bitmap[row >>> 3] as number) & (1 << (row & 7))) !== 0;
}

/** Sets bit `row` of a bitmap. */
export function setBit(bitmap: Uint8Array, row: number): void {
  bitmap[row >>> 3] = (bitmap[row >>> 3] as number) | (1 << (row & 7));
}

/** Clears bit `row` of a bitmap. */
export function clearBit(bitmap: Uint8Array, row: number): void {
  bitmap[row >>> 3] = (bitmap[row >>> 3] as number) & ~(1 << (row & 7));
}

/**
 * The bitmap trimmed to `length` rows (bits past `length` cleared, in place), or undefined when no
 * row is null.
 */
export function trimBitmap(bitmap: Uint8Array | undefined, length: number): Uint8Array | undefined {
  if (bitmap === undefined || length === 0) return undefined;
  const bytes = bitmapBytes(length);
  const trimmed = bitmap.byteLength === bytes ? bitmap : bitmap.subarray(0, bytes);
  if ((length & 7) !== 0) trimmed[bytes - 1] = (trimmed[bytes - 1] as number) & ((1 << (length & 7)) - 1);
  for (let i = 0; i < bytes; i++) if (trimmed[i] !== 0) return trimmed;
  return undefined;
}

/** Whether row `row` of a column is null. */
export function isNull(column: Column, row: number): boolean {
  return column.nulls !== undefined && bitIsSet(column.nulls, row);
}

/**
 * The value at (column, row) of a batch: null, a number (int32, int64, double, money, date in
 * seconds, stamp in microseconds), a string, a boolean or bytes.
 * @throws MeshError OUT_OF_RANGE when the column or row does not exist.
 */
export function getValue(batch: Batch, columnIndex: number, row: number): Value {
  const column = batch.columns[columnIndex];
  if (column === undefined || !(row >= 0 && row < batch.length)) {
    throw new MeshError(
      "OUT_OF_RANGE",
      `no value at column ${columnIndex}, row ${row} (batch has ${batch.columns.length} columns and ${batch.length} rows)`,
      { details: { row } },
    );
  }
  return columnValue(column, row);
}

/** The value of a row of a column, without bounds checks. */
export function columnValue(column: Column, row: number): Value {
  if (column.nulls !== undefined && bitIsSet(column.nulls, row)) return null;
  const value = column.values[row] as Value;
  return column.type === "boolean" ? value === 1 : value;
}
