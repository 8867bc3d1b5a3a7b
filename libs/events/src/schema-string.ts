import { invalidArgument } from "./errors.js";
import { createSchema, type FieldInput, isFieldType } from "./schema.js";
import type { Schema } from "./types.js";

/**
 * Parses an ESP schema string: comma-separated `name[*]:type` entries, `*` marking a key field,
 * e.g. `id*:int64,name:string,price:double`. Whitespace around names and types is ignored and type
 * names are case-insensitive.
 * @throws MeshError INVALID_ARGUMENT naming the field and its 1-based character position
 * (details `{ field, position }`).
 */
export function parseSchemaString(text: string): Schema {
  if (typeof text !== "string" || text.trim().length === 0) throw invalidArgument("schema string is empty");
  const fields: FieldInput[] = [];
  const seen = new Set<string>();
  let start = 0;
  for (const entry of text.split(",")) {
    const position = start + 1 + (entry.length - entry.trimStart().length);
    start += entry.length + 1;
    const where = `schema string, field ${fields.length + 1} at position ${position}`;
    const colon = entry.indexOf(":");
    if (entry.trim().length === 0) throw invalidArgument(`${where}: empty field`, { position });
    if (colon < 0) {
      throw invalidArgument(`${where} ("${entry.trim()}"): expected name:type`, { field: entry.trim(), position });
    }
    let name = entry.slice(0, colon).trim();
    const key = name.endsWith("*");
    if (key) name = name.slice(0, -1).trimEnd();
    const type = entry
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name.length === 0 || /[\s:*]/.test(name)) {
      throw invalidArgument(`${where}: invalid field name ${JSON.stringify(name)}`, { field: name, position });
    }
    if (seen.has(name))
      throw invalidArgument(`${where}: field "${name}" appears more than once`, { field: name, position });
    if (!isFieldType(type)) {
      const hint = type.startsWith("array") ? " (array types are not supported)" : "";
      throw invalidArgument(`${where}: field "${name}" has unknown type ${JSON.stringify(type)}${hint}`, {
        field: name,
        position,
      });
    }
    seen.add(name);
    fields.push({ name, type, key });
  }
  return createSchema(fields);
}
