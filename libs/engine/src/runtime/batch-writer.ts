import {
  type Batch,
  type Column,
  type ColumnValues,
  type FieldType,
  Opcode,
  type Schema,
  type Value,
} from "@espmesh/events";
import { float64s, int32s, uint8s } from "@espmesh/events/internal";
import { nullAt } from "./values.js";

const EMPTY = new Uint8Array(0);

function allocate(type: FieldType, capacity: number): ColumnValues {
  switch (type) {
    case "int32":
      return new Int32Array(capacity);
    case "boolean":
      return new Uint8Array(capacity);
    case "string":
      return new Array<string>(capacity);
    case "blob":
      return new Array<Uint8Array>(capacity);
    default:
      return new Float64Array(capacity);
  }
}

function grow(values: ColumnValues, capacity: number): ColumnValues {
  if (Array.isArray(values)) return values;
  const typed = values as Float64Array | Int32Array | Uint8Array;
  const next = new (typed.constructor as Float64ArrayConstructor)(capacity);
  next.set(typed);
  return next as ColumnValues;
}

/**
 * Builds the output batches of operators row by row, without validation (values come from
 * batches or from the engine, already typed). Reusable: {@link finish} hands out the batch and
 * starts a new one.
 */
export class BatchWriter {
  private count = 0;
  private capacity: number;
  private opcodes: Uint8Array;
  private values: ColumnValues[];
  private nulls: (Uint8Array | undefined)[];
  private readonly types: readonly FieldType[];

  constructor(
    readonly schema: Schema,
    private readonly initialCapacity = 16,
  ) {
    this.types = schema.fields.map((field) => field.type);
    this.capacity = initialCapacity;
    this.opcodes = new Uint8Array(initialCapacity);
    this.values = this.types.map((type) => allocate(type, initialCapacity));
    this.nulls = this.types.map(() => undefined);
  }

  /** Rows written since the last finish. */
  get length(): number {
    return this.count;
  }

  private reserve(): number {
    const row = this.count;
    if (row === this.capacity) {
      const capacity = this.capacity * 2;
      const opcodes = new Uint8Array(capacity);
      opcodes.set(this.opcodes);
      this.opcodes = opcodes;
      this.values = this.values.map((values) => grow(values, capacity));
      this.nulls = this.nulls.map((bitmap) => {
        if (bitmap === undefined) return undefined;
        const next = new Uint8Array((capacity + 7) >>> 3);
        next.set(bitmap);
        return next;
      });
      this.capacity = capacity;
    }
    this.count = row + 1;
    return row;
  }

  private setNull(column: number, row: number): void {
    let bitmap = this.nulls[column];
    if (bitmap === undefined) {
      bitmap = new Uint8Array((this.capacity + 7) >>> 3);
      this.nulls[column] = bitmap;
    }
    bitmap[row >>> 3] = bitmap[row >>> 3]! | (1 << (row & 7));
  }

  private put(column: number, row: number, value: Value): void {
    const values = this.values[column]!;
    if (value === null) {
      this.setNull(column, row);
      const type = this.types[column];
      if (type === "string") (values as string[])[row] = "";
      else if (type === "blob") (values as Uint8Array[])[row] = EMPTY;
      else (values as Float64Array)[row] = 0;
      return;
    }
    if (typeof value === "boolean") (values as Uint8Array)[row] = value ? 1 : 0;
    else (values as unknown[])[row] = value;
  }

  /** Appends one row given as values in schema order. */
  appendValues(values: readonly Value[], opcode: number): void {
    const row = this.reserve();
    this.opcodes[row] = opcode;
    for (let c = 0; c < this.types.length; c++) this.put(c, row, values[c] ?? null);
  }

  /** Appends row `row` of a batch with the same column types. */
  appendRow(source: Batch, row: number, opcode: number): void {
    const out = this.reserve();
    this.opcodes[out] = opcode;
    const columns = source.columns;
    for (let c = 0; c < this.types.length; c++) {
      const column = columns[c]!;
      if (nullAt(column, row)) {
        this.put(c, out, null);
      } else {
        (this.values[c] as unknown[])[out] = (column.values as unknown[])[row];
      }
    }
  }

  /** The first `n` values and nulls of a column, copied into storage of their own. */
  private finishColumn(c: number, n: number): Column {
    const type = this.types[c]!;
    const from = this.values[c]!;
    let values: ColumnValues;
    if (Array.isArray(from)) values = from.slice(0, n) as ColumnValues;
    else if (from instanceof Float64Array) {
      const to = float64s(n);
      to.set(from.subarray(0, n));
      values = to;
    } else if (from instanceof Int32Array) {
      const to = int32s(n);
      to.set(from.subarray(0, n));
      values = to;
    } else {
      const to = uint8s(n);
      to.set((from as Uint8Array).subarray(0, n));
      values = to;
    }
    const bitmap = this.nulls[c];
    let nulls: Uint8Array | undefined;
    if (bitmap !== undefined) {
      nulls = uint8s((n + 7) >>> 3);
      nulls.set(bitmap.subarray(0, nulls.length));
    }
    return { type, values, nulls };
  }

  /** The rows written so far as a batch (empty batches included); the writer starts over. */
  finish(): Batch {
    const n = this.count;
    const columns: Column[] = this.types.map((_, c) => this.finishColumn(c, n));
    const opcodes = uint8s(n);
    opcodes.set(this.opcodes.subarray(0, n));
    const batch: Batch = { schema: this.schema, length: n, opcodes, columns };
    this.count = 0;
    this.nulls = this.types.map(() => undefined);
    if (this.capacity > this.initialCapacity * 64) {
      this.capacity = this.initialCapacity;
      this.opcodes = new Uint8Array(this.capacity);
      this.values = this.types.map((type) => allocate(type, this.capacity));
    }
    return batch;
  }
}

/** The opcode numbers, re-exported for operators. */
export const Op = Opcode;
