/**
 * @packageDocumentation
 * The espmesh ESP engine: project model (ESP XML import, native YAML/JSON), expressions, and the
 * window operators (source, filter, compute, copy, aggregate, join, union, counter) running over
 * columnar batches with state partitioned by shard. Pure: no network, no processes, no timers.
 */

export type { BadEvent, BadEventCounters } from "./engine/bad-events.js";
export {
  createEngine,
  type Engine,
  type OutputSet,
  type ProcessOptions,
  type ShardedBatch,
  type ShardedOutputSet,
} from "./engine/engine.js";
export { type CompiledEngineOptions, compileEngineOptions, type EngineOptions } from "./engine/engine-options.js";
export { SNAPSHOT_VERSION } from "./engine/snapshot-format.js";
export { loadError, type SourcePosition } from "./errors.js";
export type { ExprNode, ValueClass } from "./expr/ast.js";
export type { ExprScope } from "./expr/check.js";
export { type CompiledExpr, compileExpression, type EvalSource, isTrue } from "./expr/compile.js";
export { type FunctionDef, listFunctions } from "./expr/functions.js";
export { parseExpression } from "./expr/parser.js";
export type { ExprOrigin } from "./expr/tokenizer.js";
export type { Vec } from "./expr/vec.js";
export { type EngineLogger, noopLogger } from "./logger.js";
export { type LoadProjectOptions, loadProject, type ProjectFormat, sniffFormat } from "./model/load-project.js";
export type {
  ExprText,
  FieldSource,
  IndexType,
  ProjectModel,
  QueryModel,
  StateKey,
  WindowDef,
  WindowModel,
} from "./model/project-model.js";
export { projectToYaml } from "./model/project-to-yaml.js";
export { registerWindowKind, windowKind, windowKinds } from "./windows/registry.js";
export type { OperatorContext, ResolvedWindow, WindowKind, WindowOperator } from "./windows/window-kind.js";
