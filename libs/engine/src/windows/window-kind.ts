import type { Batch, Schema } from "@espmesh/events";
import type { EngineLogger } from "../logger.js";
import type { FieldSource, ProjectModel, StateKey, WindowDef, WindowModel } from "../model/project-model.js";
import type { XmlView } from "../model/xml-view.js";
import type { YamlView } from "../model/yaml-view.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import type { Flow } from "../runtime/flow.js";

/** What a kind derives for a window from its definition and its (resolved) inputs. */
export interface ResolvedWindow {
  readonly schema: Schema;
  readonly stateful: boolean;
  readonly emitsInsertOnly: boolean;
  readonly stateKeys: readonly StateKey[];
  /** Per output field, the source fields it copies (empty when computed). */
  readonly lineage: readonly (readonly FieldSource[])[];
}

/**
 * One window kind: how it is written (XML element, YAML keys), how its schema and state are
 * derived, and how its operator is made. Register new kinds with `registerWindowKind`.
 */
export interface WindowKind {
  /** The `kind` in YAML: source, filter, compute, copy, aggregate, join, union, counter, ... */
  readonly kind: string;
  /** The XML element: window-source, window-filter, ... */
  readonly xmlElement: string;
  /** Inputs it takes: [min, max] (max Infinity for unions). */
  readonly inputs: readonly [number, number];
  /**
   * Whether the window declares its own schema (`<schema>`/`schema:`): "required", "optional"
   * or "none" (it is derived from the inputs).
   */
  readonly schema: "required" | "optional" | "none";
  /** Reads the kind's settings from its XML element (common attributes are already read). */
  readXml(element: XmlView): Record<string, unknown>;
  /** Reads the kind's settings from its YAML mapping (common keys are already read). */
  readYaml(node: YamlView): Record<string, unknown>;
  /** Writes the window's kind-specific settings as YAML keys (the inverse of readYaml). */
  writeYaml(window: WindowModel): Record<string, unknown>;
  /**
   * Derives the window's schema, statefulness and lineage; type-checks its expressions.
   * @throws MeshError INVALID_ARGUMENT naming the window, field and position.
   */
  resolve(def: WindowDef, inputs: readonly WindowModel[]): ResolvedWindow;
  /** Creates the operator that runs the window. */
  create(window: WindowModel, context: OperatorContext): WindowOperator;
}

/** What an operator may use from its engine. */
export interface OperatorContext {
  readonly project: ProjectModel;
  /** The inputs of the window, resolved, in order. */
  readonly inputs: readonly WindowModel[];
  /** Current time in microseconds (the engine's injected clock). */
  now(): number;
  readonly shardCount: number;
  readonly logger: EngineLogger;
  /** Marks a shard as changed since the last checkpoint. */
  markDirty(shard: number): void;
  /** Counts and logs an input event the window rejected. */
  badEvent(row: number, reason: string, batch: Batch): void;
}

/**
 * A running window. Operators see whole batches; they keep their state per shard (the shard of
 * the event that created each entry) so that it can be snapshotted, restored and dropped shard by
 * shard.
 */
export interface WindowOperator {
  /** Processes events from input number `input` (0-based); returns what the window emits. */
  process(flow: Flow, input: number): Flow | undefined;
  /** Lets time pass (retention, counters): returns what the window emits. */
  advance?(now: number): Flow | undefined;
  /** Writes the state of one shard; returns false when it holds nothing for that shard. */
  snapshot?(shard: number, out: ByteWriter): boolean;
  /** Reads the state of one shard written by {@link snapshot} (the shard is empty before). */
  restore?(shard: number, input: ByteReader): void;
  /** Forgets the state of one shard. */
  drop?(shard: number): void;
  /** The shards it holds state for. */
  shards?(): Iterable<number>;
  /** The current table of the window. */
  query?(): Batch;
}
