import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";
import { FIELD_TYPES, type FieldDef, type FieldType, type Schema } from "./types.js";

/** One field as given to {@link createSchema}; `key` defaults to false. */
export interface FieldInput {
  readonly name: string;
  readonly type: FieldType;
  /** Part of the primary key. @default false */
  readonly key?: boolean;
}

/** Characters a field name may not contain (they delimit the schema string). */
const FORBIDDEN_NAME = /[\s,:*]/;

class SchemaImpl implements Schema {
  readonly fields: readonly FieldDef[];
  readonly keyIndexes: readonly number[];
  readonly fingerprint: string;
  private readonly indexByName: ReadonlyMap<string, number>;

  constructor(fields: readonly FieldDef[]) {
    this.fields = Object.freeze(fields);
    this.keyIndexes = Object.freeze(fields.flatMap((field, index) => (field.key ? [index] : [])));
    this.indexByName = new Map(fields.map((field, index) => [field.name, index]));
    this.fingerprint = createHash("sha256").update(canonicalString(fields)).digest("hex").slice(0, 16);
  }

  indexOf(name: string): number {
    return this.indexByName.get(name) ?? -1;
  }

  toString(): string {
    return canonicalString(this.fields);
  }
}

function canonicalString(fields: readonly FieldDef[]): string {
  return fields.map((field) => `${field.name}${field.key ? "*" : ""}:${field.type}`).join(",");
}

/** Whether a value is one of the ESP field type names. */
export function isFieldType(type: unknown): type is FieldType {
  return typeof type === "string" && (FIELD_TYPES as readonly string[]).includes(type);
}

/**
 * Creates a schema from an ordered list of fields.
 *
 * Names must be unique, non-empty and free of whitespace, `,`, `:` and `*` (so every schema has a
 * schema string); types must be ESP field types. The fingerprint is the first 16 hex digits of
 * the SHA-256 of the canonical schema string (see {@link schemaToString}), so it is the same in
 * every process.
 * @throws MeshError INVALID_ARGUMENT naming the offending field.
 */
export function createSchema(fields: readonly FieldInput[]): Schema {
  if (!Array.isArray(fields) || fields.length === 0) {
    throw invalidArgument("a schema needs at least one field");
  }
  const seen = new Set<string>();
  const defs: FieldDef[] = [];
  fields.forEach((input, index) => {
    const name: unknown = input?.name;
    if (typeof name !== "string" || name.length === 0 || FORBIDDEN_NAME.test(name)) {
      throw invalidArgument(
        `field ${index + 1}: invalid name ${JSON.stringify(name)} (non-empty, no whitespace, ',', ':' or '*')`,
        { field: typeof name === "string" ? name : String(name), index },
      );
    }
    if (seen.has(name)) throw invalidArgument(`field "${name}" appears more than once`, { field: name, index });
    seen.add(name);
    if (!isFieldType(input.type)) {
      throw invalidArgument(
        `field "${name}": unknown type ${JSON.stringify(input.type)} (expected one of ${FIELD_TYPES.join(", ")})`,
        { field: name, index },
      );
    }
    defs.push(Object.freeze({ name, type: input.type, key: input.key === true }));
  });
  return new SchemaImpl(defs);
}

/** The canonical schema string of a schema: `id*:int64,name:string` (`*` marks a key field). */
export function schemaToString(schema: Schema): string {
  return canonicalString(schema.fields);
}

/** Whether two schemas have the same fields (names, types, keys) in the same order. */
export function sameSchema(a: Schema, b: Schema): boolean {
  return a === b || a.fingerprint === b.fingerprint;
}
