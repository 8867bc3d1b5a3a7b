import type { FieldType, Schema } from "@espmesh/events";
import { loadError } from "../errors.js";
import type { ExprScope } from "../expr/check.js";
import { type CompiledExpr, compileExpression } from "../expr/compile.js";
import type { ExprText, FieldSource, WindowDef, WindowModel } from "../model/project-model.js";
import type { XmlView } from "../model/xml-view.js";
import type { YamlView } from "../model/yaml-view.js";

/** A scope over the fields of a schema, optionally with a name prefix (`l_`, `r_`) and a column offset. */
export function schemaScope(schema: Schema, prefix = "", offset = 0): ExprScope {
  return {
    resolve(name) {
      if (!name.startsWith(prefix)) return undefined;
      const index = schema.indexOf(name.slice(prefix.length));
      return index < 0 ? undefined : { index: index + offset, type: schema.fields[index]!.type };
    },
    names: () => schema.fields.map((field) => `${prefix}${field.name}`),
  };
}

/** Scopes tried in order. */
export function unionScope(...scopes: ExprScope[]): ExprScope {
  return {
    resolve(name) {
      for (const scope of scopes) {
        const found = scope.resolve(name);
        if (found !== undefined) return found;
      }
      return undefined;
    },
    names: () => scopes.flatMap((scope) => scope.names()),
  };
}

/** Compiles an expression of a window's spec against a scope, with positions in the project file. */
export function compileSpecExpr(expr: ExprText, scope: ExprScope, window: string): CompiledExpr {
  return compileExpression(expr.text, scope, { line: expr.line, column: expr.column, window });
}

/** The schema a window declares; an error when it has none. */
export function requireSchema(def: WindowDef): Schema {
  if (def.schema === undefined)
    throw loadError(`a ${def.kind} window needs a schema`, { line: def.line, window: def.name });
  return def.schema;
}

/** The lineage of a field of an input window, by name (empty when unknown). */
export function lineageOf(input: WindowModel, field: string): readonly FieldSource[] {
  const index = input.schema.indexOf(field);
  return index < 0 ? [] : (input.lineage[index] ?? []);
}

/** The expression of a spec, as stored by the readers. */
export function specExpr(spec: Readonly<Record<string, unknown>>, key: string): ExprText {
  return spec[key] as ExprText;
}

/** The expression text as written back to YAML. */
export function exprToYaml(expr: ExprText): string {
  return expr.text.trim();
}

const UNITS: ReadonlyMap<string, number> = new Map([
  ["microsecond", 1],
  ["microseconds", 1],
  ["us", 1],
  ["millisecond", 1e3],
  ["milliseconds", 1e3],
  ["ms", 1e3],
  ["second", 1e6],
  ["seconds", 1e6],
  ["sec", 1e6],
  ["secs", 1e6],
  ["s", 1e6],
  ["minute", 60e6],
  ["minutes", 60e6],
  ["min", 60e6],
  ["mins", 60e6],
  ["hour", 3600e6],
  ["hours", 3600e6],
  ["h", 3600e6],
  ["day", 86400e6],
  ["days", 86400e6],
  ["d", 86400e6],
]);

/**
 * A duration in microseconds from ESP text: `5 seconds`, `30 minutes`, `100 milliseconds`,
 * `1 hour`, `250ms`; a bare number is seconds. Undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  const factor = unit === "" ? 1e6 : UNITS.get(unit);
  if (factor === undefined) return undefined;
  const micros = Math.round(amount * factor);
  return micros > 0 ? micros : undefined;
}

/** Writes microseconds back as the shortest exact ESP duration text. */
export function formatDuration(micros: number): string {
  const units: [number, string][] = [
    [86400e6, "days"],
    [3600e6, "hours"],
    [60e6, "minutes"],
    [1e6, "seconds"],
    [1e3, "milliseconds"],
  ];
  for (const [factor, name] of units) if (micros % factor === 0) return `${micros / factor} ${name}`;
  return `${micros} microseconds`;
}

/** Reads a duration attribute or text of an XML element. */
export function xmlDuration(view: XmlView, text: string, what: string): number {
  const micros = parseDuration(text);
  if (micros === undefined)
    throw view.error(`${what}: "${text}" is not a duration (like "5 seconds" or "100 milliseconds")`);
  return micros;
}

/** Reads a duration value of a YAML node. */
export function yamlDuration(node: YamlView, what: string): number {
  const text = node.string();
  const micros = parseDuration(text);
  if (micros === undefined)
    throw node.error(`${what}: "${text}" is not a duration (like "5 seconds" or "100 milliseconds")`);
  return micros;
}

/** The microseconds of an event-time value of a field type (date is in seconds). */
export function eventTimeMicros(type: FieldType, value: number): number {
  return type === "date" ? value * 1e6 : value;
}

/** Identity lineage: every field copies the same field of the input. */
export function inheritLineage(input: WindowModel): readonly (readonly FieldSource[])[] {
  return input.lineage;
}

/** A load error at a window. */
export function windowError(def: WindowDef, message: string, field?: string): Error {
  return loadError(message, { line: def.line, window: def.name, field });
}
