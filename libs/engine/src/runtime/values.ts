import type { Batch, Column, FieldType, Value } from "@espmesh/events";

/** Whether row `row` of a column is null. */
export function nullAt(column: Column, row: number): boolean {
  const bitmap = column.nulls;
  return bitmap !== undefined && (bitmap[row >>> 3]! & (1 << (row & 7))) !== 0;
}

/** The value of a row of a column: null, number, string, boolean or bytes. */
export function valueAt(column: Column, row: number): Value {
  if (nullAt(column, row)) return null;
  const value = column.values[row] as number | string | Uint8Array;
  return column.type === "boolean" ? value === 1 : value;
}

/** Every value of one row of a batch, in schema order. */
export function rowValues(batch: Batch, row: number): Value[] {
  const columns = batch.columns;
  const out = new Array<Value>(columns.length);
  for (let c = 0; c < columns.length; c++) out[c] = valueAt(columns[c]!, row);
  return out;
}

/** A table key: a number for a single non-null numeric key field, else a string. */
export type TableKey = string | number;

const NULL_KEY = "\u0000null";

function keyPart(value: Value): string {
  if (value === null) return NULL_KEY;
  if (typeof value === "string") return `s${value}`;
  if (typeof value === "number") return `n${value}`;
  if (typeof value === "boolean") return value ? "n1" : "n0";
  return `b${Buffer.from(value).toString("base64")}`;
}

/**
 * Encodes the key fields of rows into table keys: the value itself for one numeric or string
 * field (nulls get a reserved string), a joined string otherwise. Equal key values give equal keys.
 */
export interface KeyEncoder {
  /** The key of a row of a batch. */
  ofRow(batch: Batch, row: number): TableKey;
  /** The key of values given in key-field order. */
  ofValues(values: readonly Value[]): TableKey;
}

/** A key encoder over the given columns of a schema (their types decide the fast paths). */
export function createKeyEncoder(indexes: readonly number[], types: readonly FieldType[]): KeyEncoder {
  if (indexes.length === 1) {
    const index = indexes[0]!;
    const type = types[0]!;
    if (type === "string") {
      return {
        ofRow: (batch, row) => {
          const column = batch.columns[index]!;
          return nullAt(column, row) ? NULL_KEY : (column.values as string[])[row]!;
        },
        ofValues: (values) => (values[0] === null ? NULL_KEY : (values[0] as string)),
      };
    }
    if (type !== "blob") {
      return {
        ofRow: (batch, row) => {
          const column = batch.columns[index]!;
          return nullAt(column, row) ? NULL_KEY : (column.values as Float64Array)[row]!;
        },
        ofValues: (values) => {
          const value = values[0];
          if (value === null || value === undefined) return NULL_KEY;
          return typeof value === "boolean" ? (value ? 1 : 0) : (value as number);
        },
      };
    }
  }
  return {
    ofRow: (batch, row) => {
      let key = "";
      for (let i = 0; i < indexes.length; i++) {
        if (i > 0) key += "\u0001";
        key += keyPart(valueAt(batch.columns[indexes[i]!]!, row));
      }
      return key;
    },
    ofValues: (values) => {
      let key = "";
      for (let i = 0; i < values.length; i++) {
        if (i > 0) key += "\u0001";
        key += keyPart(values[i] ?? null);
      }
      return key;
    },
  };
}

/** Whether two values are equal (bytes by content). */
export function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
}

/** Whether two rows of values are equal. */
export function sameValues(a: readonly Value[], b: readonly Value[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i] ?? null, b[i] ?? null)) return false;
  return true;
}

/** Orders two values: nulls first, then numbers, strings, booleans, bytes by their natural order. */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  return String(a) < String(b) ? -1 : 1;
}
