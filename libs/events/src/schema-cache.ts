import { invalidArgument } from "./errors.js";
import type { Schema } from "./types.js";

/** Schemas by fingerprint, as a stream receives them: the schema once, then only its fingerprint. */
export interface SchemaCache {
  /** The schema of a fingerprint, or undefined. */
  get(fingerprint: string): Schema | undefined;
  /** Remembers a schema under its fingerprint (the oldest is forgotten past `maxSchemas`). */
  add(schema: Schema): void;
  /** Number of schemas held. */
  readonly size: number;
}

/** Options of {@link createSchemaCache}. */
export interface SchemaCacheOptions {
  /** Most schemas held; adding one more forgets the least recently added. @default 1024 */
  readonly maxSchemas?: number;
}

/** Creates an empty, bounded {@link SchemaCache}. */
export function createSchemaCache(options: SchemaCacheOptions = {}): SchemaCache {
  const maxSchemas = options.maxSchemas ?? 1024;
  if (!Number.isSafeInteger(maxSchemas) || maxSchemas < 1) {
    throw invalidArgument(`maxSchemas must be a positive integer, got ${maxSchemas}`, { option: "maxSchemas" });
  }
  const schemas = new Map<string, Schema>();
  return {
    get: (fingerprint) => schemas.get(fingerprint),
    add(schema) {
      if (schemas.has(schema.fingerprint)) return;
      if (schemas.size >= maxSchemas) {
        const oldest = schemas.keys().next();
        if (oldest.done !== true) schemas.delete(oldest.value);
      }
      schemas.set(schema.fingerprint, schema);
    },
    get size() {
      return schemas.size;
    },
  };
}
