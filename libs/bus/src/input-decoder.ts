import { fromBinary } from "@bufbuild/protobuf";
import {
  type Batch,
  createSchemaCache,
  decodeBatch,
  type InputRow,
  isOpcode,
  Opcode,
  opcodeOf,
  rowsToBatch,
  type Schema,
  schemaToString,
} from "@espmesh/events";
import { BatchSchema } from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import { BATCH_CONTENT_TYPE, JSON_CONTENT_TYPE, mediaType } from "./content-type.js";

/** Why a message was rejected, as the `reason` label of the rejection metric. */
export type RejectReason = "content_type" | "json" | "rows" | "batch" | "schema";

/** A message as a batch, or why it cannot be one. */
export type Decoded =
  | { readonly ok: true; readonly batch: Batch }
  | { readonly ok: false; readonly reason: RejectReason; readonly error: MeshError };

/** The field that carries a JSON row's opcode (a name such as `"upsert"`, or its number). */
export const OPCODE_FIELD = "_opcode";

/** Turns message payloads into batches of one schema. */
export interface InputDecoder {
  /** Decodes a payload by its Content-Type header value (undefined: no header, read as JSON). */
  decode(contentType: string | undefined, data: Uint8Array): Decoded;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A decoder for `schema`. Columnar messages (`application/x-espmesh-batch`) must carry this
 * schema (same fingerprint); JSON messages (`application/json`, or no content type) hold one object
 * of field values or an array of them, each with an optional `_opcode` (default insert), converted
 * and validated by the schema. `window` names the input window in error messages.
 */
export function createInputDecoder(schema: Schema, window: string): InputDecoder {
  const cache = createSchemaCache({ maxSchemas: 16 });
  cache.add(schema);
  const reject = (reason: RejectReason, error: unknown): Decoded => {
    const failure = MeshError.from(error);
    return { ok: false, reason, error: failure };
  };

  const decodeColumnar = (data: Uint8Array): Decoded => {
    let batch: Batch;
    try {
      batch = decodeBatch(fromBinary(BatchSchema, data), cache);
    } catch (error) {
      const failure = MeshError.from(error);
      const message = `columnar message for window "${window}" is malformed: ${failure.message}`;
      return reject(
        "batch",
        new MeshError("INVALID_ARGUMENT", message, { details: { ...failure.details, window }, cause: error }),
      );
    }
    if (batch.schema.fingerprint !== schema.fingerprint) {
      const message = `columnar message has schema ${schemaToString(batch.schema)}, not the schema of window "${window}" (${schemaToString(schema)})`;
      return reject("schema", new MeshError("INVALID_ARGUMENT", message, { details: { window } }));
    }
    return { ok: true, batch };
  };

  const decodeJson = (data: Uint8Array): Decoded => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(data));
    } catch (error) {
      const message = `JSON message for window "${window}" does not parse: ${(error as Error).message}`;
      return reject("json", new MeshError("INVALID_ARGUMENT", message, { details: { window }, cause: error }));
    }
    const objects = Array.isArray(parsed) ? parsed : [parsed];
    const rows: InputRow[] = [];
    const opcodes: Opcode[] = [];
    for (let row = 0; row < objects.length; row++) {
      const object = objects[row];
      if (typeof object !== "object" || object === null || Array.isArray(object)) {
        const message = `JSON message for window "${window}", row ${row}: expected an object of field values`;
        return reject("rows", new MeshError("INVALID_ARGUMENT", message, { details: { window, row } }));
      }
      const { [OPCODE_FIELD]: opcode, ...fields } = object as Record<string, unknown>;
      try {
        opcodes.push(opcodeFrom(opcode));
      } catch (error) {
        const message = `JSON message for window "${window}", row ${row}: ${(error as Error).message}`;
        return reject(
          "rows",
          new MeshError("INVALID_ARGUMENT", message, { details: { window, row, field: OPCODE_FIELD } }),
        );
      }
      rows.push(fields as InputRow);
    }
    try {
      return { ok: true, batch: rowsToBatch(schema, rows, opcodes) };
    } catch (error) {
      const failure = MeshError.from(error);
      const message = `JSON message for window "${window}": ${failure.message}`;
      return reject(
        "rows",
        new MeshError("INVALID_ARGUMENT", message, { details: { ...failure.details, window }, cause: error }),
      );
    }
  };

  return {
    decode(contentType, data) {
      const type = mediaType(contentType);
      if (type === BATCH_CONTENT_TYPE) return decodeColumnar(data);
      if (type === JSON_CONTENT_TYPE || type === "") return decodeJson(data);
      const message = `message for window "${window}" has content type "${contentType}"; expected ${BATCH_CONTENT_TYPE} or ${JSON_CONTENT_TYPE}`;
      return reject("content_type", new MeshError("INVALID_ARGUMENT", message, { details: { window } }));
    },
  };
}

function opcodeFrom(value: unknown): Opcode {
  if (value === undefined || value === null) return Opcode.Insert;
  if (typeof value === "string") return opcodeOf(value);
  if (isOpcode(value)) return value;
  throw new Error(`invalid ${OPCODE_FIELD} ${JSON.stringify(value)}: expected insert, update, delete or upsert`);
}
