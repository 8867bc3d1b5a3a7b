/**
 * The ESP field types.
 *
 * In memory (and therefore in every batch the engine sees) a column holds:
 * - `int64`, `double`, `money`, `date`, `stamp`: `Float64Array`. Integer types hold safe integers
 *   (|v| <= 2^53 - 1); a value outside that range is rejected at the edge (the int64 policy:
 *   numbers, not bigint, so arithmetic on the hot path stays on doubles).
 * - `int32`: `Int32Array`.
 * - `boolean`: `Uint8Array` of 0/1.
 * - `string`: `string[]`.
 * - `blob`: `Uint8Array[]`.
 * Nulls are a separate bitmap per column (see {@link Column.nulls}); the value slot of a null row
 * holds the type's zero (0, "", false, empty bytes).
 */
export type FieldType = "int32" | "int64" | "double" | "money" | "string" | "date" | "stamp" | "boolean" | "blob";

/** Every field type, in wire order (index + 1 = protobuf FieldType number). */
export const FIELD_TYPES: readonly FieldType[] = [
  "int32",
  "int64",
  "double",
  "money",
  "string",
  "date",
  "stamp",
  "boolean",
  "blob",
];

/** One value of a row: null, or the JS value of its type. */
export type Value = number | string | boolean | Uint8Array | null;

/** A row by field name. */
export type Row = Record<string, Value>;

/**
 * A value as accepted on input (batch builder, rowsToBatch, hashValues): a {@link Value}, or a
 * `Date` or ISO-8601 string for date and stamp fields, a `bigint` for integer fields, `undefined`
 * for null. Coerced to a stored {@link Value} by the field's type.
 */
export type InputValue = Value | Date | bigint | undefined;

/** A row as accepted on input: field name to {@link InputValue}; a missing field is null. */
export type InputRow = { readonly [field: string]: InputValue };

/** One field of a schema. */
export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Part of the primary key. */
  readonly key: boolean;
}

/** An ordered, typed list of fields, some of them keys. Create with `createSchema` or `parseSchemaString`. */
export interface Schema {
  readonly fields: readonly FieldDef[];
  /** Indexes of the key fields, in schema order. */
  readonly keyIndexes: readonly number[];
  /** Stable fingerprint of names, types and keys (hex). */
  readonly fingerprint: string;
  /** Index of a field by name, or -1. */
  indexOf(name: string): number;
}

/** Event opcodes, numbered as on the wire. */
export const Opcode = { Insert: 1, Update: 2, Delete: 3, Upsert: 4 } as const;
/** An opcode number. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];
/** An opcode by name, as users write it. */
export type OpcodeName = "insert" | "update" | "delete" | "upsert";

/** Column storage by field type; see {@link FieldType}. */
export type ColumnValues = Float64Array | Int32Array | Uint8Array | string[] | Uint8Array[];

/** One column of a batch. */
export interface Column {
  readonly type: FieldType;
  /** `length` values (may be longer; only the first `length` count). */
  readonly values: ColumnValues;
  /** Null bitmap, bit i (LSB first) set = row i is null; undefined when no row is null. */
  readonly nulls: Uint8Array | undefined;
}

/** A columnar batch of events of one schema: the unit on every hot path. */
export interface Batch {
  readonly schema: Schema;
  /** Number of events. */
  readonly length: number;
  /** One opcode per event. */
  readonly opcodes: Uint8Array;
  /** One column per schema field, in schema order. */
  readonly columns: readonly Column[];
}

/** One event as a row with its opcode. */
export interface Event {
  readonly opcode: OpcodeName;
  readonly fields: Row;
}
