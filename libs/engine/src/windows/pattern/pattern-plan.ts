import type { FieldType, Schema } from "@espmesh/events";
import { loadError } from "../../errors.js";
import type { WindowDef, WindowModel } from "../../model/project-model.js";
import { type LogicNode, parseLogic } from "./logic-parser.js";
import { type CompiledEvent, compileEvents, type PatternVar } from "./pattern-events.js";
import { compileOutputs, type OutputPlan } from "./pattern-output.js";
import type { PatternSpec } from "./pattern-spec.js";

/** Node kinds of a compiled pattern tree. */
export const LEAF = 0;
export const FBY = 1;
export const AND = 2;
export const OR = 3;
export const NOT = 4;

/** A node of a compiled pattern tree; node 0 is the root. */
export interface PlanNode {
  readonly kind: number;
  readonly children: readonly number[];
  /** Time bound in microseconds (Infinity when none). */
  readonly bound: number;
  /** The event of a leaf or of a `not` (-1 for other operators). */
  readonly event: number;
  /** For `and`: whether it has `not` children (it then completes when its bound passes). */
  readonly guarded: boolean;
}

/** The event-time field of an input. */
export interface TimeField {
  readonly index: number;
  readonly type: FieldType;
}

/** One pattern, compiled and checked. */
export interface PatternPlan {
  readonly index: number;
  readonly name: string;
  readonly nodes: readonly PlanNode[];
  readonly events: readonly CompiledEvent[];
  readonly vars: readonly PatternVar[];
  /** The variable every event binds or tests (partial matches are grouped by it), or -1. */
  readonly keyVar: number;
  /** Per event, the column its `keyVar==field` condition reads (-1 without a key variable). */
  readonly keyField: readonly number[];
  /** Per event: whether it can start a partial match. */
  readonly starts: readonly boolean[];
  /** Per event: whether it is negated (appears under `not`). */
  readonly negated: readonly boolean[];
  /** Per input: its event-time field, or undefined (engine clock). All or none. */
  readonly timeFields: readonly (TimeField | undefined)[] | undefined;
  readonly output: OutputPlan;
}

function fail(def: WindowDef, message: string, at: { line: number; column: number }): never {
  throw loadError(message, { ...at, window: def.name });
}

/**
 * Compiles one pattern of a window: its events, its logic tree (checked: `not` wraps one event,
 * cannot start a pattern nor sit under `or`; a trailing `not` needs a bound; each event used
 * once; every variable bound before it is read), its outputs and its time fields.
 * @throws MeshError INVALID_ARGUMENT at the offending element.
 */
export function compilePattern(
  def: WindowDef,
  spec: PatternSpec,
  index: number,
  inputs: readonly WindowModel[],
  schema: Schema,
): PatternPlan {
  const name = spec.name ?? `pattern${index}`;
  const seen = new Set<string>();
  for (const event of spec.events) {
    if (seen.has(event.name)) fail(def, `pattern "${name}" declares event "${event.name}" twice`, event.expression);
    seen.add(event.name);
  }
  if (spec.events.length === 0) fail(def, `pattern "${name}" has no events`, spec.logic);
  const { events, vars } = compileEvents(def, spec.events, inputs);
  const byName = new Map(events.map((event, i) => [event.name, i]));
  const logic = parseLogic(spec.logic, def.name);
  const nodes: PlanNode[] = [];
  const used = new Set<number>();
  const negated = events.map(() => false);
  const build = (node: LogicNode, parent: LogicNode | undefined, position: number): number => {
    const id = nodes.length;
    nodes.push({ kind: LEAF, children: [], bound: Number.POSITIVE_INFINITY, event: -1, guarded: false });
    if (node.kind === "event") {
      const event = byName.get(node.name);
      if (event === undefined)
        fail(def, `pattern logic names event "${node.name}", which <events> does not declare`, node.pos);
      if (used.has(event))
        fail(def, `event "${node.name}" appears twice in the logic; declare a second event for it`, node.pos);
      used.add(event);
      nodes[id] = { kind: LEAF, children: [], bound: Number.POSITIVE_INFINITY, event, guarded: false };
      return id;
    }
    if (node.op === "not") {
      const child = node.children[0]!;
      if (child.kind !== "event") fail(def, "not takes one event, not an operator", child.pos);
      if (parent === undefined) fail(def, "a pattern cannot be only a not", node.pos);
      if (parent.kind === "operator" && parent.op === "or") fail(def, "not cannot be an operand of or", node.pos);
      if (parent.kind === "operator" && parent.op === "fby" && position === 0) {
        fail(def, "a followed-by cannot start with not: put the event that starts the match first", node.pos);
      }
      const leaf = build(child, node, 0);
      const event = nodes[leaf]!.event;
      negated[event] = true;
      nodes[id] = { kind: NOT, children: [leaf], bound: Number.POSITIVE_INFINITY, event, guarded: false };
      return id;
    }
    const children = node.children.map((child, i) => build(child, node, i));
    const kind = node.op === "fby" ? FBY : node.op === "and" ? AND : OR;
    const nots = children.filter((child) => nodes[child]!.kind === NOT);
    if (kind === AND && nots.length === children.length)
      fail(def, "and needs at least one event that is not negated", node.pos);
    const trailing = kind === FBY && nodes[children[children.length - 1]!]!.kind === NOT;
    if ((trailing || (kind === AND && nots.length > 0)) && node.bound === undefined) {
      fail(
        def,
        `${node.op} with a not ${kind === FBY ? "at its end " : ""}needs a time bound (like ${node.op}{1 second}(...)): the match completes when the bound passes without the negated event`,
        node.pos,
      );
    }
    nodes[id] = {
      kind,
      children,
      bound: node.bound ?? Number.POSITIVE_INFINITY,
      event: -1,
      guarded: kind === AND && nots.length > 0,
    };
    return id;
  };
  build(logic, undefined, 0);
  events.forEach((event, i) => {
    if (!used.has(i))
      fail(def, `event "${event.name}" is declared but not used in the logic of pattern "${name}"`, event);
  });
  checkVariables(def, nodes, events, vars);
  const starts = events.map(() => false);
  const markStarts = (id: number): void => {
    const node = nodes[id]!;
    if (node.kind === LEAF) starts[node.event] = true;
    else if (node.kind === FBY) markStarts(node.children[0]!);
    else if (node.kind !== NOT) for (const child of node.children) if (nodes[child]!.kind !== NOT) markStarts(child);
  };
  markStarts(0);
  const keyVar = vars.findIndex((_, slot) => events.every((event) => event.binds.has(slot)));
  const keyField = events.map((event) => (keyVar < 0 ? -1 : event.bindings.find((b) => b.slot === keyVar)!.field));
  return {
    index,
    name,
    nodes,
    events,
    vars,
    keyVar,
    keyField,
    starts,
    negated,
    timeFields: compileTimeFields(def, spec, name, inputs, events),
    output: compileOutputs(def, spec, name, schema, events, vars, negated),
  };
}

/** Every variable an event reads must be bound before it (on every path) or by the event itself. */
function checkVariables(
  def: WindowDef,
  nodes: readonly PlanNode[],
  events: readonly CompiledEvent[],
  vars: readonly PatternVar[],
): void {
  const visit = (id: number, before: ReadonlySet<number>): ReadonlySet<number> => {
    const node = nodes[id]!;
    if (node.kind === LEAF || node.kind === NOT) {
      const event = events[node.event]!;
      const available = node.kind === LEAF ? new Set([...before, ...event.binds]) : before;
      const needed = node.kind === LEAF ? event.reads : new Set([...event.reads, ...event.binds]);
      for (const slot of needed) {
        if (!available.has(slot)) {
          const what =
            node.kind === NOT ? "a negated event only tests variables" : "bind it in an earlier event or in this one";
          fail(def, `event "${event.name}" reads variable "${vars[slot]!.name}" before it is bound (${what})`, event);
        }
      }
      return node.kind === LEAF ? available : new Set(before);
    }
    if (node.kind === FBY) {
      let bound: ReadonlySet<number> = before;
      for (const child of node.children) bound = visit(child, bound);
      return bound;
    }
    const intersect = (sets: readonly ReadonlySet<number>[]): Set<number> => {
      const [first, ...rest] = sets;
      return new Set([...first!].filter((slot) => rest.every((set) => set.has(slot))));
    };
    const positives = node.children.filter((child) => nodes[child]!.kind !== NOT);
    const results = positives.map((child) => visit(child, before));
    if (node.kind === OR) return intersect(results);
    // A negated event of an `and` is tested once an operand has matched: what every operand binds.
    const guarded = new Set([...before, ...intersect(results)]);
    for (const child of node.children) if (nodes[child]!.kind === NOT) visit(child, guarded);
    return new Set(results.flatMap((set) => [...set]));
  };
  visit(0, new Set());
}

function compileTimeFields(
  def: WindowDef,
  spec: PatternSpec,
  name: string,
  inputs: readonly WindowModel[],
  events: readonly CompiledEvent[],
): (TimeField | undefined)[] | undefined {
  if (spec.timefields.length === 0) return undefined;
  const at = { line: spec.logic.line, column: spec.logic.column };
  const fields: (TimeField | undefined)[] = inputs.map(() => undefined);
  for (const timefield of spec.timefields) {
    const input =
      timefield.source === undefined
        ? inputs.length === 1
          ? 0
          : -1
        : inputs.findIndex((i) => i.name === timefield.source);
    if (input < 0) {
      fail(
        def,
        `timefield "${timefield.field}" of pattern "${name}" needs a source that is an input of the window`,
        at,
      );
    }
    const schema = inputs[input]!.schema;
    const index = schema.indexOf(timefield.field);
    if (index < 0) fail(def, `timefield "${timefield.field}" is not a field of "${inputs[input]!.name}"`, at);
    const type = schema.fields[index]!.type;
    if (type !== "stamp" && type !== "date" && type !== "int64") {
      fail(def, `timefield "${timefield.field}" must be a stamp, date or int64 (microseconds), not ${type}`, at);
    }
    fields[input] = { index, type };
  }
  for (const event of events) {
    if (fields[event.input] === undefined) {
      fail(
        def,
        `pattern "${name}" uses event time but gives no timefield for "${event.source.name}" (event "${event.name}")`,
        at,
      );
    }
  }
  return fields;
}
