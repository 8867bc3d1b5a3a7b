import type { Schema } from "@espmesh/events";

/** ESP index types; `pi_EMPTY` means the window keeps no table (stateless). */
export type IndexType = "pi_RBTREE" | "pi_HASH" | "pi_LN_HASH" | "pi_CL_HASH" | "pi_FW_HASH" | "pi_EMPTY";

/** Every accepted index type. */
export const INDEX_TYPES: readonly IndexType[] = [
  "pi_RBTREE",
  "pi_HASH",
  "pi_LN_HASH",
  "pi_CL_HASH",
  "pi_FW_HASH",
  "pi_EMPTY",
];

/** Expression text with where it starts in the project file (for error positions). */
export interface ExprText {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** A field of a source window, the origin of a derived field. */
export interface FieldSource {
  /** A source window. */
  readonly window: string;
  /** One of its fields. */
  readonly field: string;
}

/**
 * A key that partitions a stateful window's state: the fields it is made of (of the window
 * itself, or of one of its inputs for a join side) and, per field, the source-window fields whose
 * values it copies. A field whose `sources` is empty is computed, so its shard cannot be derived
 * from any source routing key.
 */
export interface StateKey {
  /** What the key is, for messages: "group-by", "key", "left join condition", ... */
  readonly role: string;
  readonly fields: readonly string[];
  readonly sources: readonly (readonly FieldSource[])[];
}

/** A window as written in the project, before its schema and wiring are resolved. */
export interface WindowDef {
  readonly name: string;
  /** The window kind: source, filter, compute, copy, aggregate, join, union, counter, ... */
  readonly kind: string;
  /** The continuous query it belongs to. */
  readonly query: string;
  /** Input windows in order (for a join: left, then right). */
  readonly inputs: readonly string[];
  /** The declared schema, when the project gives one. */
  readonly schema: Schema | undefined;
  /** @default "pi_RBTREE" */
  readonly index: IndexType;
  /** Source windows: only inserts accepted, no table kept. */
  readonly insertOnly: boolean;
  readonly description: string | undefined;
  /** Line of the window in the project file, when loaded from text. */
  readonly line: number | undefined;
  /** Kind-specific settings (plain data, as in the YAML form). */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A resolved window: its definition plus everything derived from the graph. */
export interface WindowModel extends WindowDef {
  /** The output schema. */
  readonly schema: Schema;
  /** Names of the key fields of the output schema. */
  readonly keyFields: readonly string[];
  /** Windows fed by this one. */
  readonly outputs: readonly string[];
  /** Whether it keeps state per shard (and so takes part in snapshots). */
  readonly stateful: boolean;
  /** Whether it only ever emits inserts. */
  readonly emitsInsertOnly: boolean;
  /** Keys partitioning its state (empty for stateless windows). */
  readonly stateKeys: readonly StateKey[];
  /** Per output field, the source-window fields it copies (empty when computed). */
  readonly lineage: readonly (readonly FieldSource[])[];
}

/** A continuous query: a named group of windows. */
export interface QueryModel {
  readonly name: string;
  /** Its windows' names, in the order written. */
  readonly windows: readonly string[];
}

/** A loaded, validated project: the input of `createEngine`. */
export interface ProjectModel {
  readonly name: string;
  readonly description: string | undefined;
  readonly queries: readonly QueryModel[];
  /** Every window, in topological order (inputs before the windows they feed). */
  readonly windows: readonly WindowModel[];
  /** A window by name (names are unique across the project). */
  window(name: string): WindowModel | undefined;
  /** Windows without inputs. */
  readonly sources: readonly string[];
}
