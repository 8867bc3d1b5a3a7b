import { MeshError, type MeshErrorDetails } from "@espmesh/telemetry";

/** A MeshError with code INVALID_ARGUMENT. */
export function invalidArgument(message: string, details: MeshErrorDetails = {}): MeshError {
  return new MeshError("INVALID_ARGUMENT", message, { details });
}

/**
 * The error for one bad value: `row 3, field "price": expected double, got "abc"`, with details
 * `{ field, row }`.
 */
export function badValue(row: number, field: string, expected: string, value: unknown): MeshError {
  return invalidArgument(`row ${row}, field "${field}": expected ${expected}, got ${describeValue(value)}`, {
    field,
    row,
  });
}

/** A short, safe description of any value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (value instanceof Uint8Array) return `bytes (${value.byteLength})`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : `Date ${value.toISOString()}`;
  if (Array.isArray(value)) return "an array";
  return "an object";
}
