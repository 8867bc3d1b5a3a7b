import { BAD, COERCERS, type Coercer, EXPECTED } from "./coerce.js";
import { allocateValues, bitmapBytes, clearBit, EMPTY_BYTES, setBit, trimBitmap } from "./columns.js";
import { badValue, invalidArgument } from "./errors.js";
import { isOpcode } from "./opcodes.js";
import {
  type Batch,
  type Column,
  type ColumnValues,
  type InputRow,
  type InputValue,
  Opcode,
  type Schema,
  type Value,
} from "./types.js";

/** Appends validated rows to columns and seals them into a {@link Batch}. */
export interface BatchBuilder {
  readonly schema: Schema;
  /** Number of rows appended since the last seal or reset. */
  readonly length: number;
  /**
   * Appends one row by field name; a missing field or `undefined` is null. Every value is
   * validated and coerced by its field type (see {@link COERCERS}); a field name the schema does
   * not have is rejected. A rejected row leaves the builder unchanged.
   * @param opcode the event's opcode. @default Opcode.Insert
   * @throws MeshError INVALID_ARGUMENT whose message and details name the field and the row
   * (the row's index within this builder).
   */
  append(row: InputRow, opcode?: Opcode): void;
  /** Appends one row given positionally, in schema order, with the same validation as {@link append}. */
  appendValues(values: readonly InputValue[], opcode: Opcode): void;
  /** The appended rows as a batch; the builder is empty afterwards and can be reused. */
  seal(): Batch;
  /** Drops every appended row. */
  reset(): void;
}

const ZERO: Readonly<Record<string, Value>> = { string: "", blob: EMPTY_BYTES };

class BatchBuilderImpl implements BatchBuilder {
  readonly schema: Schema;
  private count = 0;
  private capacity: number;
  private readonly initialCapacity: number;
  private opcodes!: Uint8Array;
  private values!: ColumnValues[];
  private nulls!: (Uint8Array | undefined)[];
  private allocated = false;
  private readonly names: readonly string[];
  private readonly coercers: readonly Coercer[];
  private readonly zeros: readonly Value[];

  constructor(schema: Schema, capacity: number) {
    this.schema = schema;
    this.initialCapacity = capacity;
    this.capacity = capacity;
    this.names = schema.fields.map((field) => field.name);
    this.coercers = schema.fields.map((field) => COERCERS[field.type]);
    this.zeros = schema.fields.map((field) => ZERO[field.type] ?? 0);
  }

  get length(): number {
    return this.count;
  }

  append(row: InputRow, opcode: Opcode = Opcode.Insert): void {
    const index = this.begin(opcode);
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw invalidArgument(`row ${index}: expected an object of field values`, { row: index });
    }
    const names = this.names;
    let present = 0;
    for (let f = 0; f < names.length; f++) {
      const value = row[names[f] as string];
      if (value !== undefined) present++;
      this.put(f, index, value);
    }
    let keys = 0;
    for (const key in row) if (row[key] !== undefined) keys++;
    if (keys !== present) {
      for (const key in row) {
        if (this.schema.indexOf(key) < 0) {
          throw invalidArgument(`row ${index}, field "${key}": no such field in the schema`, {
            field: key,
            row: index,
          });
        }
      }
    }
    this.opcodes[index] = opcode;
    this.count = index + 1;
  }

  appendValues(values: readonly InputValue[], opcode: Opcode): void {
    const index = this.begin(opcode);
    if (!Array.isArray(values) || values.length !== this.names.length) {
      throw invalidArgument(
        `row ${index}: expected ${this.names.length} values in schema order, got ${Array.isArray(values) ? values.length : typeof values}`,
        { row: index },
      );
    }
    for (let f = 0; f < values.length; f++) this.put(f, index, values[f]);
    this.opcodes[index] = opcode;
    this.count = index + 1;
  }

  seal(): Batch {
    const length = this.count;
    if (!this.allocated) this.allocate(0);
    const columns: Column[] = this.schema.fields.map((field, f) => ({
      type: field.type,
      values: trimValues(this.values[f] as ColumnValues, length),
      nulls: trimBitmap(this.nulls[f], length),
    }));
    const batch: Batch = { schema: this.schema, length, opcodes: this.opcodes.subarray(0, length), columns };
    this.allocated = false;
    this.count = 0;
    this.capacity = this.initialCapacity;
    return batch;
  }

  reset(): void {
    this.count = 0;
    if (this.allocated) for (const bitmap of this.nulls) bitmap?.fill(0);
  }

  private begin(opcode: Opcode): number {
    const index = this.count;
    if (!isOpcode(opcode)) throw invalidArgument(`row ${index}: invalid opcode ${String(opcode)}`, { row: index });
    if (!this.allocated) this.allocate(this.capacity);
    else if (index === this.capacity) this.grow();
    return index;
  }

  private put(f: number, index: number, value: unknown): void {
    const values = this.values[f] as ColumnValues;
    if (value === null || value === undefined) {
      let bitmap = this.nulls[f];
      if (bitmap === undefined) {
        bitmap = new Uint8Array(bitmapBytes(this.capacity));
        this.nulls[f] = bitmap;
      }
      setBit(bitmap, index);
      values[index] = this.zeros[f] as never;
      return;
    }
    const coerced = (this.coercers[f] as Coercer)(value);
    if (coerced === BAD) {
      const field = this.schema.fields[f];
      throw badValue(index, field?.name ?? String(f), field ? EXPECTED[field.type] : "a value", value);
    }
    values[index] = coerced as never;
    const bitmap = this.nulls[f];
    if (bitmap !== undefined) clearBit(bitmap, index);
  }

  private allocate(capacity: number): void {
    this.capacity = Math.max(capacity, 1);
    this.opcodes = new Uint8Array(this.capacity);
    this.values = this.schema.fields.map((field) => allocateValues(field.type, this.capacity));
    this.nulls = this.schema.fields.map(() => undefined);
    this.allocated = true;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const opcodes = new Uint8Array(capacity);
    opcodes.set(this.opcodes);
    this.opcodes = opcodes;
    this.values = this.values.map((values, f) => {
      if (Array.isArray(values)) return values;
      const grown = allocateValues((this.schema.fields[f] as { type: Column["type"] }).type, capacity) as typeof values;
      grown.set(values as never);
      return grown;
    });
    this.nulls = this.nulls.map((bitmap) => {
      if (bitmap === undefined) return undefined;
      const grown = new Uint8Array(bitmapBytes(capacity));
      grown.set(bitmap);
      return grown;
    });
    this.capacity = capacity;
  }
}

function trimValues(values: ColumnValues, length: number): ColumnValues {
  if (Array.isArray(values)) {
    values.length = length;
    return values;
  }
  return values.length === length ? values : values.subarray(0, length);
}

/**
 * Creates a builder of batches of a schema.
 * @param capacity rows to allocate room for up front (the builder grows past it). @default 1024
 */
export function createBatchBuilder(schema: Schema, capacity = 1024): BatchBuilder {
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw invalidArgument(`batch builder capacity must be a non-negative integer, got ${capacity}`);
  }
  return new BatchBuilderImpl(schema, capacity);
}
