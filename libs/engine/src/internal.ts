/**
 * @packageDocumentation
 * Building blocks for window kinds written outside this package (pattern, geofence): batch
 * writing, flows and shard vectors, sharded tables, snapshot bytes, XML/YAML readers and helpers.
 */

export { assignable, checkExpression, classOf, type TypedNode } from "./expr/check.js";
export { compileAst, compileNode, vecToColumn } from "./expr/compile.js";
export { XmlView } from "./model/xml-view.js";
export { YamlView } from "./model/yaml-view.js";
export { BatchWriter } from "./runtime/batch-writer.js";
export { ByteReader, ByteWriter } from "./runtime/bytes.js";
export { ArrayShards, type Flow, HashShards, SelectedShards, type ShardVector } from "./runtime/flow.js";
export { MinHeap } from "./runtime/heap.js";
export { type ShardedEntry, ShardedTable } from "./runtime/sharded-table.js";
export * from "./runtime/values.js";
export * from "./windows/common.js";
