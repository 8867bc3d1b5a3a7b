import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { COERCERS, EXPECTED, type FieldType, type Opcode, opcodeOf, type Schema, type Value } from "@espmesh/events";
import { BAD } from "@espmesh/events/internal";
import { parse } from "csv-parse";

/** One input event read from a file, with where it came from. */
export interface InputRecord {
  readonly window: string;
  readonly file: string;
  readonly line: number;
  readonly opcode: Opcode;
  /** Values in schema order. */
  readonly values: Value[];
}

/** Bad input: a message naming the file, line and field. */
export class InputError extends Error {
  override readonly name = "InputError";
}

function fail(file: string, line: number, message: string): never {
  throw new InputError(`${file}:${line}: ${message}`);
}

/** The format of an input file, by extension. */
export function inputFormat(file: string): "csv" | "jsonl" {
  const lower = file.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || lower.endsWith(".json")) return "jsonl";
  throw new InputError(`${file}: unknown input format (use .csv, .jsonl or .ndjson)`);
}

/** Converts CSV text of a field into the JS value its type expects (then checked by COERCERS). */
function fromText(text: string, type: FieldType): unknown {
  if (text === "") return null;
  switch (type) {
    case "int32":
    case "int64":
    case "date":
    case "stamp":
      return /^[+-]?\d+$/.test(text.trim())
        ? Number(text.trim())
        : type === "date" || type === "stamp"
          ? text.trim()
          : text;
    case "double":
    case "money": {
      const trimmed = text.trim();
      const value = Number(trimmed);
      return trimmed !== "" && Number.isFinite(value) ? value : text;
    }
    case "boolean": {
      const lower = text.trim().toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      return text;
    }
    case "blob":
      return Buffer.from(text, "base64");
    default:
      return text;
  }
}

function coerce(file: string, line: number, field: string, type: FieldType, value: unknown): Value {
  if (value === null || value === undefined) return null;
  const input = type === "blob" && typeof value === "string" ? Buffer.from(value, "base64") : value;
  const stored = COERCERS[type](input instanceof Buffer ? new Uint8Array(input) : input);
  if (stored === BAD) fail(file, line, `field "${field}": expected ${EXPECTED[type]}, got ${JSON.stringify(value)}`);
  return type === "boolean" ? stored === 1 : (stored as Value);
}

function opcodeAt(file: string, line: number, text: unknown): Opcode {
  if (text === undefined || text === null || text === "") return 1;
  try {
    return opcodeOf(String(text));
  } catch {
    return fail(file, line, `invalid opcode ${JSON.stringify(text)}: expected insert, update, delete or upsert`);
  }
}

/** Reads the events of a CSV file: a header of field names, an optional `opcode` column. */
async function* readCsv(file: string, window: string, schema: Schema): AsyncGenerator<InputRecord> {
  const parser = createReadStream(file).pipe(
    parse({ bom: true, info: true, relax_column_count: false, skip_empty_lines: true }),
  );
  let header: string[] | undefined;
  let columns: number[] = [];
  let opcodeColumn = -1;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      const line = info.lines;
      if (header === undefined) {
        header = record.map((name) => name.trim());
        opcodeColumn = header.indexOf("opcode");
        columns = header.map((name, i) => {
          if (i === opcodeColumn) return -1;
          const index = schema.indexOf(name);
          if (index < 0) fail(file, line, `column "${name}" is not a field of window "${window}"`);
          return index;
        });
        continue;
      }
      const values: Value[] = new Array<Value>(schema.fields.length).fill(null);
      record.forEach((text, i) => {
        const index = columns[i]!;
        if (index < 0) return;
        const field = schema.fields[index]!;
        values[index] = coerce(file, line, field.name, field.type, fromText(text, field.type));
      });
      yield {
        window,
        file,
        line,
        opcode: opcodeAt(file, line, opcodeColumn < 0 ? undefined : record[opcodeColumn]),
        values,
      };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const line = (error as { lines?: number }).lines;
    throw new InputError(`${file}:${line ?? "?"}: malformed CSV: ${message}`);
  }
}

/** Reads the events of a JSON-lines file: one object per line, by field name, optional `_opcode`. */
async function* readJsonLines(file: string, window: string, schema: Schema): AsyncGenerator<InputRecord> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let object: unknown;
    try {
      object = JSON.parse(text);
    } catch (error) {
      fail(file, line, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof object !== "object" || object === null || Array.isArray(object))
      fail(file, line, "expected a JSON object");
    const record = object as Record<string, unknown>;
    const values: Value[] = new Array<Value>(schema.fields.length).fill(null);
    for (const [name, value] of Object.entries(record)) {
      if (name === "_opcode") continue;
      const index = schema.indexOf(name);
      if (index < 0) fail(file, line, `field "${name}" is not a field of window "${window}"`);
      values[index] = coerce(file, line, name, schema.fields[index]!.type, value);
    }
    yield { window, file, line, opcode: opcodeAt(file, line, record._opcode), values };
  }
}

/** Reads the events of one input file. */
export function readInput(file: string, window: string, schema: Schema): AsyncGenerator<InputRecord> {
  return inputFormat(file) === "csv" ? readCsv(file, window, schema) : readJsonLines(file, window, schema);
}
