/**
 * @packageDocumentation
 * espmesh events: schemas of ESP field types, columnar batches (building, row conversion,
 * selection, concatenation), the stable key hash used for shards, and the wire codec of
 * `espmesh.v1.Batch`. Pure: no network, no processes, no clock.
 *
 * int64 policy: every integer-like value (int64, date, stamp, money micro-units) is a JavaScript
 * number that must be a safe integer (|v| <= 2^53 - 1); anything else is a validation error. See
 * the package README for the wire layout and the hash algorithm.
 */

export { type BatchBuilder, createBatchBuilder } from "./batch-builder.js";
export { COERCERS, type Coercer, EXPECTED, parseIsoMicros } from "./coerce.js";
export { allocateValues, EMPTY_BYTES, getValue, isNull } from "./columns.js";
export { decodeBatch } from "./decode-batch.js";
export { type EncodeBatchOptions, encodeBatch } from "./encode-batch.js";
export { hashRow, hashRows, hashValues, shardOf } from "./hash.js";
export { hashWireRows, type WireColumn } from "./hash-wire.js";
export { isOpcode, OPCODE_NAMES, opcodeName, opcodeOf } from "./opcodes.js";
export { batchToEvents, batchToRows, emptyBatch, rowsToBatch } from "./rows.js";
export { createSchema, type FieldInput, isFieldType, sameSchema, schemaToString } from "./schema.js";
export { createSchemaCache, type SchemaCache, type SchemaCacheOptions } from "./schema-cache.js";
export { fieldTypeFromProto, fieldTypeToProto, schemaFromProto, schemaToProto } from "./schema-proto.js";
export { parseSchemaString } from "./schema-string.js";
export { concatBatches, selectRows } from "./select.js";
export * from "./types.js";
