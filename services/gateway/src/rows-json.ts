import type { Event, Row } from "@espmesh/events";

/** A value as JSON carries it: blobs as base64 text, everything else as is. */
function jsonValue(value: Row[string]): unknown {
  return value instanceof Uint8Array
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")
    : value;
}

/** A row with JSON-safe values (blobs as base64). */
export function rowToJson(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in row) out[name] = jsonValue(row[name] as Row[string]);
  return out;
}

/** An event as sent to subscribers: `{"opcode", "fields"}` with JSON-safe values. */
export function eventToJson(event: Event): { opcode: string; fields: Record<string, unknown> } {
  return { opcode: event.opcode, fields: rowToJson(event.fields) };
}
