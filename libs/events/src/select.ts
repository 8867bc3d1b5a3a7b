import { MeshError } from "@espmesh/telemetry";
import { allocateValues, bitIsSet, bitmapBytes, setBit } from "./columns.js";
import { invalidArgument } from "./errors.js";
import { emptyBatch } from "./rows.js";
import { sameSchema } from "./schema.js";
import type { Batch, Column, ColumnValues, Schema } from "./types.js";

type TypedValues = Float64Array | Int32Array | Uint8Array;

/**
 * A new batch of the rows `selection[0..count)` of a batch, in selection order (an index may
 * repeat). Every column is copied once; the result shares no storage with the input.
 * @param count how many entries of `selection` to use. @default selection.length
 * @throws MeshError OUT_OF_RANGE when an index is not a row of the batch or count exceeds the selection.
 */
export function selectRows(batch: Batch, selection: Uint32Array, count: number = selection.length): Batch {
  if (!(count >= 0 && count <= selection.length)) {
    throw new MeshError("OUT_OF_RANGE", `selection count ${count} exceeds the selection length ${selection.length}`);
  }
  const opcodes = new Uint8Array(count);
  const source = batch.opcodes;
  let max = 0;
  for (let i = 0; i < count; i++) {
    const row = selection[i] as number;
    if (row > max) max = row;
    opcodes[i] = source[row] as number;
  }
  if (count > 0 && max >= batch.length) {
    throw new MeshError("OUT_OF_RANGE", `selection names row ${max} of a batch of ${batch.length} rows`, {
      details: { row: max },
    });
  }
  const columns = batch.columns.map((column) => selectColumn(column, selection, count));
  return { schema: batch.schema, length: count, opcodes, columns };
}

function selectColumn(column: Column, selection: Uint32Array, count: number): Column {
  const source = column.values;
  let values: ColumnValues;
  if (Array.isArray(source)) {
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = source[selection[i] as number];
    values = out as ColumnValues;
  } else {
    values = selectTyped(source as TypedValues, selection, count);
  }
  let nulls: Uint8Array | undefined;
  if (column.nulls !== undefined) {
    const bitmap = column.nulls;
    for (let i = 0; i < count; i++) {
      if (bitIsSet(bitmap, selection[i] as number)) {
        nulls ??= new Uint8Array(bitmapBytes(count));
        setBit(nulls, i);
      }
    }
  }
  return { type: column.type, values, nulls };
}

/**
 * The selected values of a fixed-width column. One loop per array type, so that each loop's
 * element accesses stay monomorphic (a shared loop over the three types runs several times slower).
 */
function selectTyped(source: TypedValues, selection: Uint32Array, count: number): TypedValues {
  if (source instanceof Float64Array) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = source[selection[i]!]!;
    return out;
  }
  if (source instanceof Int32Array) {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = source[selection[i]!]!;
    return out;
  }
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = source[selection[i]!]!;
  return out;
}

/**
 * One batch of the events of several batches of the same schema, in order. Columns are copied
 * once; a single input batch is returned as is.
 * @throws MeshError INVALID_ARGUMENT when a batch has another schema.
 */
export function concatBatches(schema: Schema, batches: readonly Batch[]): Batch {
  let length = 0;
  for (const [index, batch] of batches.entries()) {
    if (!sameSchema(schema, batch.schema)) {
      throw invalidArgument(
        `batch ${index} has another schema (${batch.schema.fingerprint}, expected ${schema.fingerprint})`,
        {
          index,
        },
      );
    }
    length += batch.length;
  }
  if (batches.length === 1 && batches[0]!.schema === schema) return batches[0]!;
  if (length === 0) return emptyBatch(schema);
  const opcodes = new Uint8Array(length);
  let offset = 0;
  for (const batch of batches) {
    opcodes.set(batch.opcodes.subarray(0, batch.length), offset);
    offset += batch.length;
  }
  const columns = schema.fields.map((field, f) => concatColumn(field.type, batches, f, length));
  return { schema, length, opcodes, columns };
}

function concatColumn(type: Column["type"], batches: readonly Batch[], f: number, length: number): Column {
  const values = allocateValues(type, length);
  let nulls: Uint8Array | undefined;
  let offset = 0;
  for (const batch of batches) {
    const column = batch.columns[f]!;
    const n = batch.length;
    if (Array.isArray(values)) {
      const source = column.values as unknown[];
      for (let i = 0; i < n; i++) values[offset + i] = source[i] as never;
    } else {
      (values as TypedValues).set((column.values as TypedValues).subarray(0, n), offset);
    }
    if (column.nulls !== undefined) {
      const bitmap = column.nulls;
      for (let i = 0; i < n; i++) {
        if (bitIsSet(bitmap, i)) {
          nulls ??= new Uint8Array(bitmapBytes(length));
          setBit(nulls, offset + i);
        }
      }
    }
    offset += n;
  }
  return { type, values, nulls };
}
