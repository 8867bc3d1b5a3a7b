import type { FieldType, Schema } from "@espmesh/events";
import { loadError } from "../../errors.js";
import type { ExprNode } from "../../expr/ast.js";
import { checkExpression, classOf, type ExprScope } from "../../expr/check.js";
import { type CompiledExpr, compileAst } from "../../expr/compile.js";
import { parseExpression } from "../../expr/parser.js";
import type { WindowDef, WindowModel } from "../../model/project-model.js";
import { schemaScope } from "../common.js";
import type { PatternEventSpec } from "./pattern-spec.js";
import { compileScalar, type ScalarFn } from "./scalar-eval.js";

/** A unification variable of a pattern: bound on first use by a `var==field` condition. */
export interface PatternVar {
  readonly name: string;
  /** The type of the field it is first bound from. */
  readonly type: FieldType;
}

/** A `var==field` condition: binds the variable when unbound, tests equality when bound. */
export interface Binding {
  readonly slot: number;
  /** Column index in the event's source schema. */
  readonly field: number;
}

/** An event of interest, compiled. */
export interface CompiledEvent {
  readonly name: string;
  /** Index of its source among the window's inputs. */
  readonly input: number;
  readonly source: WindowModel;
  /** The conditions without variables, evaluated column-wise over whole batches. */
  readonly staticPart: CompiledExpr | undefined;
  readonly bindings: readonly Binding[];
  /** The other conditions with variables, evaluated per event and partial match. */
  readonly dynamicPart: ScalarFn | undefined;
  /** Variables its `var==field` conditions name. */
  readonly binds: ReadonlySet<number>;
  /** Variables its other conditions read (they must be bound before it or by it). */
  readonly reads: ReadonlySet<number>;
  /** Whether its other conditions read a variable it may bind itself (then they run after binding). */
  readonly readsOwnBinds: boolean;
  /** Where its predicate starts, for errors. */
  readonly line: number;
  readonly column: number;
}

function conjuncts(node: ExprNode, out: ExprNode[] = []): ExprNode[] {
  if (node.kind === "binary" && node.op === "and") {
    conjuncts(node.left, out);
    conjuncts(node.right, out);
  } else out.push(node);
  return out;
}

function names(node: ExprNode, out: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case "field":
      out.add(node.name);
      break;
    case "unary":
      names(node.arg, out);
      break;
    case "binary":
      names(node.left, out);
      names(node.right, out);
      break;
    case "call":
      for (const arg of node.args) names(arg, out);
      break;
    default:
      break;
  }
  return out;
}

function conjoin(nodes: readonly ExprNode[]): ExprNode | undefined {
  if (nodes.length === 0) return undefined;
  return nodes.reduce((left, right) => ({ kind: "binary", op: "and", left, right, pos: left.pos }));
}

interface ParsedEvent {
  readonly spec: PatternEventSpec;
  readonly input: number;
  readonly schema: Schema;
  readonly conjuncts: readonly ExprNode[];
  /** Per conjunct: [variable name, field name] when it is a `var==field` condition. */
  readonly bindings: readonly ([string, string] | undefined)[];
}

function bindingOf(node: ExprNode, schema: Schema): [string, string] | undefined {
  if (node.kind !== "binary" || node.op !== "==" || node.left.kind !== "field" || node.right.kind !== "field")
    return undefined;
  const left = schema.indexOf(node.left.name) >= 0;
  const right = schema.indexOf(node.right.name) >= 0;
  if (left === right) return undefined;
  return left ? [node.right.name, node.left.name] : [node.left.name, node.right.name];
}

function sourceOf(def: WindowDef, spec: PatternEventSpec, inputs: readonly WindowModel[]): number {
  if (spec.source === undefined) {
    if (inputs.length === 1) return 0;
    throw loadError(`event "${spec.name}" needs a source: the window has ${inputs.length} inputs`, {
      line: spec.expression.line,
      window: def.name,
    });
  }
  const index = inputs.findIndex((input) => input.name === spec.source);
  if (index < 0) {
    throw loadError(
      `event "${spec.name}" reads "${spec.source}", which is not an input of the window (inputs: ${inputs.map((i) => i.name).join(", ")})`,
      { line: spec.expression.line, window: def.name },
    );
  }
  return index;
}

/**
 * Compiles the events of a pattern: splits each predicate into its top-level conditions, finds
 * the unification variables (names that are not fields of the event's source), types them from
 * their `var==field` conditions, and compiles the conditions without variables column-wise and the
 * others per event.
 * @throws MeshError INVALID_ARGUMENT at the offending condition.
 */
export function compileEvents(
  def: WindowDef,
  specs: readonly PatternEventSpec[],
  inputs: readonly WindowModel[],
): { events: CompiledEvent[]; vars: PatternVar[] } {
  const window = def.name;
  const parsed: ParsedEvent[] = specs.map((spec) => {
    const input = sourceOf(def, spec, inputs);
    const schema = inputs[input]!.schema;
    const ast = parseExpression(spec.expression.text, {
      line: spec.expression.line,
      column: spec.expression.column,
      window,
    });
    const parts = conjuncts(ast);
    return { spec, input, schema, conjuncts: parts, bindings: parts.map((part) => bindingOf(part, schema)) };
  });
  const vars: PatternVar[] = [];
  const slots = new Map<string, number>();
  for (const event of parsed) {
    event.bindings.forEach((binding, i) => {
      if (binding === undefined) return;
      const [name, field] = binding;
      const type = event.schema.fields[event.schema.indexOf(field)]!.type;
      const slot = slots.get(name);
      if (slot === undefined) {
        slots.set(name, vars.length);
        vars.push({ name, type });
        return;
      }
      const known = classOf(vars[slot]!.type);
      const cls = classOf(type);
      const numeric = (c: string) => c === "int" || c === "double";
      if (known !== cls && !(numeric(known) && numeric(cls))) {
        throw loadError(
          `variable "${name}" is bound to a ${vars[slot]!.type} elsewhere but compared with ${type} field "${field}" here`,
          {
            ...event.conjuncts[i]!.pos,
            window,
          },
        );
      }
    });
  }
  const events = parsed.map((event): CompiledEvent => {
    const fields = schemaScope(event.schema);
    const base = event.schema.fields.length;
    const scope: ExprScope = {
      resolve(name) {
        const field = fields.resolve(name);
        if (field !== undefined) return field;
        const slot = slots.get(name);
        return slot === undefined ? undefined : { index: base + slot, type: vars[slot]!.type };
      },
      names: () => [...fields.names(), ...vars.map((v) => v.name)],
    };
    const staticParts: ExprNode[] = [];
    const dynamicParts: ExprNode[] = [];
    const bindings: Binding[] = [];
    const reads = new Set<number>();
    event.conjuncts.forEach((part, i) => {
      const binding = event.bindings[i];
      if (binding !== undefined) {
        bindings.push({ slot: slots.get(binding[0])!, field: event.schema.indexOf(binding[1]) });
        return;
      }
      const variables = [...names(part)].filter((name) => event.schema.indexOf(name) < 0);
      for (const name of variables) {
        const slot = slots.get(name);
        if (slot === undefined) {
          throw loadError(
            `"${name}" is neither a field of "${inputs[event.input]!.name}" nor a variable bound by a "${name}==field" condition (fields: ${event.schema.fields.map((f) => f.name).join(", ")})`,
            { ...part.pos, window },
          );
        }
        reads.add(slot);
      }
      (variables.length === 0 ? staticParts : dynamicParts).push(part);
    });
    const staticAst = conjoin(staticParts);
    const dynamicAst = conjoin(dynamicParts);
    const staticPart =
      staticAst === undefined ? undefined : compileAst(staticAst, fields, event.spec.expression.text, window);
    let dynamicPart: ScalarFn | undefined;
    if (dynamicAst !== undefined) {
      const typed = checkExpression(dynamicAst, scope, window);
      if (typed.cls === "string" || typed.cls === "blob") {
        throw loadError(`the predicate of event "${event.spec.name}" must be a boolean, not a ${typed.cls}`, {
          ...dynamicAst.pos,
          window,
        });
      }
      dynamicPart = compileScalar(typed, { varBase: base, from: "row" });
    }
    if (staticPart !== undefined && (staticPart.cls === "string" || staticPart.cls === "blob")) {
      throw loadError(`the predicate of event "${event.spec.name}" must be a boolean, not a ${staticPart.cls}`, {
        ...staticPart.pos,
        window,
      });
    }
    return {
      name: event.spec.name,
      input: event.input,
      source: inputs[event.input]!,
      staticPart,
      bindings,
      dynamicPart,
      binds: new Set(bindings.map((b) => b.slot)),
      reads,
      readsOwnBinds: bindings.some((b) => reads.has(b.slot)),
      line: event.spec.expression.line,
      column: event.spec.expression.column,
    };
  });
  return { events, vars };
}
