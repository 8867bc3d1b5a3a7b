import { MeshError, type MeshErrorDetails } from "@espmesh/telemetry";

/** A position in a project file (1-based line and column). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * A project load error: INVALID_ARGUMENT with the position in the project file in the message
 * (`line 12:7: ...`) and in the details (`line`, `column`, `window`, `field`, `path`).
 */
export function loadError(message: string, where: LoadErrorWhere = {}): MeshError {
  const prefix: string[] = [];
  if (where.line !== undefined)
    prefix.push(`line ${where.line}${where.column !== undefined ? `:${where.column}` : ""}`);
  if (where.path !== undefined) prefix.push(where.path);
  if (where.window !== undefined) prefix.push(`window "${where.window}"`);
  const details: MeshErrorDetails = {};
  if (where.line !== undefined) details.line = where.line;
  if (where.column !== undefined) details.column = where.column;
  if (where.window !== undefined) details.window = where.window;
  if (where.field !== undefined) details.field = where.field;
  if (where.path !== undefined) details.path = where.path;
  const text = prefix.length > 0 ? `${prefix.join(", ")}: ${message}` : message;
  return new MeshError("INVALID_ARGUMENT", text, { details });
}

/** Where a load error was found; any subset may be known. */
export interface LoadErrorWhere {
  line?: number | undefined;
  column?: number | undefined;
  window?: string | undefined;
  field?: string | undefined;
  /** Path in a YAML/JSON project, like `windows[2].expression`. */
  path?: string | undefined;
}
