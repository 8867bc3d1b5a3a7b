import { createBatchBuilder } from "./batch-builder.js";
import { allocateValues, columnValue } from "./columns.js";
import { invalidArgument } from "./errors.js";
import { OPCODE_NAMES, opcodeOf } from "./opcodes.js";
import { type Batch, type Event, type InputRow, Opcode, type OpcodeName, type Row, type Schema } from "./types.js";

/**
 * Builds a batch from rows, validating every value (see {@link BatchBuilder.append}).
 * @param opcodes one opcode for every row, or one per row (numbers or names). @default insert
 * @throws MeshError INVALID_ARGUMENT naming the field and the row (index in `rows`).
 */
export function rowsToBatch(
  schema: Schema,
  rows: readonly InputRow[],
  opcodes: Opcode | readonly (Opcode | OpcodeName)[] = Opcode.Insert,
): Batch {
  const perRow = typeof opcodes === "object" ? opcodes : undefined;
  if (perRow !== undefined && perRow.length !== rows.length) {
    throw invalidArgument(`got ${perRow.length} opcodes for ${rows.length} rows`);
  }
  const builder = createBatchBuilder(schema, rows.length);
  for (let i = 0; i < rows.length; i++) {
    let op = perRow === undefined ? (opcodes as Opcode) : perRow[i];
    if (typeof op === "string") {
      try {
        op = opcodeOf(op);
      } catch (error) {
        throw invalidArgument(`row ${i}: ${(error as Error).message}`, { row: i });
      }
    }
    builder.append(rows[i] as InputRow, op as Opcode);
  }
  return builder.seal();
}

/** The rows of a batch by field name; null values are `null`, booleans `true`/`false`. */
export function batchToRows(batch: Batch): Row[] {
  const names = batch.schema.fields.map((field) => field.name);
  const rows = new Array<Row>(batch.length);
  for (let r = 0; r < batch.length; r++) {
    const row: Row = {};
    for (let f = 0; f < names.length; f++) row[names[f] as string] = columnValue(batch.columns[f]!, r);
    rows[r] = row;
  }
  return rows;
}

/** The events of a batch: each row with its opcode name. */
export function batchToEvents(batch: Batch): Event[] {
  const rows = batchToRows(batch);
  return rows.map((fields, r) => ({ opcode: OPCODE_NAMES[(batch.opcodes[r] as number) - 1] ?? "insert", fields }));
}

/** A batch of a schema with no events. */
export function emptyBatch(schema: Schema): Batch {
  return {
    schema,
    length: 0,
    opcodes: new Uint8Array(0),
    columns: schema.fields.map((field) => ({
      type: field.type,
      values: allocateValues(field.type, 0),
      nulls: undefined,
    })),
  };
}
