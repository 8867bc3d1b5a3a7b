import {
  createBatchBuilder,
  OPCODE_NAMES,
  type OpcodeName,
  opcodeOf,
  type Row,
  type Schema,
  type Value,
} from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { csvRows } from "./csv-rows.js";
import { type RawRow, rowError } from "./raw-row.js";

/** Body formats of `POST .../events`. */
export type EventFormat = "json" | "ndjson" | "csv";

function jsonRows(body: unknown): RawRow[] {
  const list: unknown[] = Array.isArray(body) ? body : [body];
  return list.map((value, index) => ({
    origin: { row: index + 1 },
    value,
    opcode: typeof value === "object" && value !== null ? (value as Record<string, unknown>)._opcode : undefined,
  }));
}

function ndjsonRows(text: string, window: string): RawRow[] {
  const rows: RawRow[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const origin = { row: rows.length + 1, line: i + 1 };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw rowError(window, origin, `malformed JSON: ${(error as Error).message}`);
    }
    rows.push({ origin, value, opcode: (value as Record<string, unknown> | null)?._opcode });
  }
  return rows;
}

/** Decodes base64 text for blob fields; anything else is left for validation to reject. */
function blobValue(value: unknown): unknown {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) return value;
  return new Uint8Array(Buffer.from(value, "base64"));
}

/**
 * The rows of a request body, each with its `_opcode` name, validated against `schema` as a
 * whole: every value is checked by its field type, unknown fields and opcodes are refused, and the
 * first bad row fails the request with INVALID_ARGUMENT naming the row (1-based within the
 * request, with its line for NDJSON and CSV) and the field. Nothing is published until every row
 * has passed.
 * @param body the parsed JSON body (an array of objects, or one object) or the NDJSON / CSV text
 * @param defaultOpcode opcode of rows that give none
 */
export function readEventRows(
  format: EventFormat,
  body: unknown,
  schema: Schema,
  window: string,
  defaultOpcode: OpcodeName = "insert",
): Row[] {
  const raw =
    format === "json"
      ? jsonRows(body)
      : format === "ndjson"
        ? ndjsonRows(String(body ?? ""), window)
        : csvRows(String(body ?? ""), schema, window);
  const blobFields = schema.fields.filter((field) => field.type === "blob").map((field) => field.name);
  const builder = createBatchBuilder(schema, Math.min(raw.length, 4096));
  const rows: Row[] = new Array<Row>(raw.length);
  const fallback = opcodeOf(defaultOpcode);
  for (let i = 0; i < raw.length; i++) {
    const { origin, value, opcode } = raw[i] as RawRow;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw rowError(
        window,
        origin,
        `expected an object of field values, got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`,
      );
    }
    const { _opcode: _given, ...fields } = value as Record<string, unknown>;
    for (const name of blobFields) if (name in fields) fields[name] = blobValue(fields[name]);
    let op = fallback;
    if (opcode !== undefined && opcode !== null && opcode !== "") {
      try {
        op = opcodeOf(opcode as string);
      } catch {
        const message = `invalid opcode ${JSON.stringify(opcode)}: expected insert, update, delete or upsert`;
        throw rowError(window, origin, message, { field: "_opcode" });
      }
    }
    try {
      builder.append(fields as Record<string, Value>, op);
    } catch (error) {
      const failure = MeshError.from(error);
      const message = failure.message.replace(/^row \d+(, |: )/, "");
      throw rowError(window, origin, message, { ...failure.details });
    }
    if (builder.length >= 4096) builder.reset();
    rows[i] = { ...(fields as Row), _opcode: OPCODE_NAMES[op - 1] as OpcodeName };
  }
  builder.reset();
  return rows;
}
