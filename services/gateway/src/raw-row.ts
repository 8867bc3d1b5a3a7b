import { MeshError, type MeshErrorDetails } from "@espmesh/telemetry";

/** Where a row came from, for messages: its 1-based number in the request and, for text formats, its line. */
export interface RowOrigin {
  readonly row: number;
  readonly line?: number;
}

/** A row read off a request body, before validation. */
export interface RawRow {
  readonly origin: RowOrigin;
  /** Field values by name, or whatever the body held there (validation rejects non-objects). */
  readonly value: unknown;
  /** An opcode given with the row (`_opcode`, or the CSV `opcode` column). */
  readonly opcode: unknown;
}

/** `row 3` or `row 3 (line 4)`. */
export function describeOrigin(origin: RowOrigin): string {
  return origin.line === undefined ? `row ${origin.row}` : `row ${origin.row} (line ${origin.line})`;
}

/**
 * An INVALID_ARGUMENT error about one row of a request: the message starts with the window and
 * the row, the details carry `window`, `row` (1-based within the request) and `line` when known.
 */
export function rowError(
  window: string,
  origin: RowOrigin,
  message: string,
  details: MeshErrorDetails = {},
): MeshError {
  return new MeshError("INVALID_ARGUMENT", `window "${window}", ${describeOrigin(origin)}: ${message}`, {
    details: { ...details, window, row: origin.row, ...(origin.line === undefined ? {} : { line: origin.line }) },
  });
}
