import type { FieldType, Schema } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { parse } from "csv-parse/sync";
import { type RawRow, rowError } from "./raw-row.js";

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The value of one CSV cell for a field type: an empty cell is null; numbers, booleans
 * (`true`/`false`/`1`/`0`), base64 blobs and integer dates/stamps are converted; a date or stamp
 * that is not an integer stays text (ISO-8601 is accepted by validation); anything that does not
 * convert is left as text so that validation names the field and what it expected.
 */
export function csvCell(text: string, type: FieldType): unknown {
  if (text === "") return null;
  switch (type) {
    case "int32":
    case "int64":
    case "double":
    case "money":
      return NUMBER.test(text.trim()) ? Number(text) : text;
    case "date":
    case "stamp":
      return INTEGER.test(text.trim()) ? Number(text) : text;
    case "boolean": {
      const lower = text.trim().toLowerCase();
      return lower === "true" || lower === "1" ? true : lower === "false" || lower === "0" ? false : text;
    }
    case "blob":
      return BASE64.test(text) ? new Uint8Array(Buffer.from(text, "base64")) : text;
    case "string":
      return text;
  }
}

/** The opcode column of a CSV header: `opcode` or `_opcode`, unless the schema has a field of that name. */
function opcodeColumn(header: readonly string[], schema: Schema): number {
  for (const name of ["_opcode", "opcode"]) {
    const index = header.indexOf(name);
    if (index >= 0 && schema.indexOf(name) < 0) return index;
  }
  return -1;
}

/**
 * The rows of a CSV body: the first record is the header (field names in any order, a subset of
 * the schema's; an optional `opcode` column), each further record one row. Malformed CSV and
 * unknown header names are INVALID_ARGUMENT errors naming the line or the column.
 */
export function csvRows(text: string, schema: Schema, window: string): RawRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      info: true,
      skip_empty_lines: true,
      bom: true,
      relax_column_count: true,
    }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: unknown }).lines;
    throw new MeshError("INVALID_ARGUMENT", `window "${window}": malformed CSV: ${(error as Error).message}`, {
      details: { window, ...(typeof line === "number" ? { line } : {}) },
      cause: error,
    });
  }
  const [head, ...body] = records;
  if (head === undefined) return [];
  const header = head.record.map((name) => name.trim());
  const opcodeAt = opcodeColumn(header, schema);
  const types: (FieldType | undefined)[] = header.map((name, column) => {
    if (column === opcodeAt) return undefined;
    const index = schema.indexOf(name);
    if (index < 0) {
      const known = schema.fields.map((field) => field.name).join(", ");
      throw new MeshError(
        "INVALID_ARGUMENT",
        `window "${window}", CSV header column ${column + 1}: no field "${name}" in the schema (fields: ${known})`,
        { details: { window, field: name, line: head.info.lines } },
      );
    }
    return schema.fields[index]?.type;
  });
  return body.map(({ record, info }, index) => {
    const origin = { row: index + 1, line: info.lines };
    if (record.length !== header.length) {
      throw rowError(window, origin, `expected ${header.length} columns as in the header, got ${record.length}`);
    }
    const value: Record<string, unknown> = {};
    for (let column = 0; column < header.length; column++) {
      const type = types[column];
      if (type !== undefined) value[header[column] as string] = csvCell(record[column] as string, type);
    }
    return { origin, value, opcode: opcodeAt >= 0 ? record[opcodeAt] : undefined };
  });
}
