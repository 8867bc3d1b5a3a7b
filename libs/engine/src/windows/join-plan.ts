import { createSchema, type FieldType, type Schema } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { assignable, classOf } from "../expr/check.js";
import type { CompiledExpr } from "../expr/compile.js";
import type { ExprText, FieldSource, WindowDef, WindowModel } from "../model/project-model.js";
import { compileSpecExpr, schemaScope, unionScope, windowError } from "./common.js";

/** Join types. */
export type JoinType = "inner" | "leftouter" | "rightouter" | "fullouter";

/** Every join type. */
export const JOIN_TYPES: readonly JoinType[] = ["inner", "leftouter", "rightouter", "fullouter"];

/** One output field of a join as written: a selection (`l_x`, `r_y`) or an expression. */
export type JoinOutputSpec =
  | { readonly name: string; readonly source: string }
  | { readonly name: string; readonly type: FieldType; readonly expr: ExprText };

/** The settings of a join window. */
export interface JoinSpec {
  readonly type: JoinType;
  readonly noRegenerates: boolean;
  readonly conditions: readonly { readonly left: string; readonly right: string }[];
  readonly output: readonly JoinOutputSpec[];
}

/** How one output column is made: copied from a side, or computed over the pair. */
export type JoinColumn =
  | { readonly side: 0 | 1; readonly index: number; readonly expr?: undefined }
  | { readonly side?: undefined; readonly index?: undefined; readonly expr: CompiledExpr };

/** A compiled join. */
export interface JoinPlan {
  readonly spec: JoinSpec;
  readonly schema: Schema;
  readonly columns: readonly JoinColumn[];
  /** Condition columns of each side, pairwise. */
  readonly conditions: readonly [readonly number[], readonly number[]];
  /** Output key fields: which side and column each copies. */
  readonly keySources: readonly { readonly side: 0 | 1; readonly index: number }[];
  /** Schema of the pair batch expressions read: `l_*` fields, then `r_*` fields. */
  readonly pairSchema: Schema;
  /** With no-regenerates: the side whose events produce output (the other is the dimension). */
  readonly factSide: 0 | 1 | undefined;
  /** Whether a side's rows without a match are output (outer side). */
  readonly outer: readonly [boolean, boolean];
  readonly lineage: readonly (readonly FieldSource[])[];
}

interface Entry {
  name: string;
  type: FieldType;
  key: boolean;
  column: JoinColumn;
}

function sourceOf(text: string): { side: 0 | 1; field: string } | undefined {
  const match = /^\s*([lr])_([A-Za-z_][A-Za-z0-9_.]*)\s*$/.exec(text);
  if (match === null) return undefined;
  return { side: match[1] === "l" ? 0 : 1, field: match[2]! };
}

/**
 * Compiles a join: checks its conditions and output against both inputs and derives the output
 * schema. The output key is what identifies a joined row: the left key when each left row pairs
 * with at most one right row, the right key in the mirror case, both otherwise (plus the key of an
 * outer side, whose unmatched rows are output too). Key fields the output does not select are
 * added first, under the source field's name.
 * @throws MeshError INVALID_ARGUMENT naming the window and field.
 */
export function planJoin(def: WindowDef, inputs: readonly WindowModel[]): JoinPlan {
  const spec = def.spec as unknown as JoinSpec;
  const sides = [inputs[0]!, inputs[1]!] as const;
  if (spec.conditions.length === 0) throw windowError(def, "a join needs at least one condition (<fields left right>)");
  const conditions: [number[], number[]] = [[], []];
  for (const condition of spec.conditions) {
    const l = sides[0].schema.indexOf(condition.left);
    const r = sides[1].schema.indexOf(condition.right);
    if (l < 0)
      throw windowError(
        def,
        `join condition: "${condition.left}" is not a field of the left input "${sides[0].name}"`,
        condition.left,
      );
    if (r < 0)
      throw windowError(
        def,
        `join condition: "${condition.right}" is not a field of the right input "${sides[1].name}"`,
        condition.right,
      );
    const lt = classOf(sides[0].schema.fields[l]!.type);
    const rt = classOf(sides[1].schema.fields[r]!.type);
    const numeric = (c: string) => c === "int" || c === "double";
    if (lt !== rt && !(numeric(lt) && numeric(rt))) {
      throw windowError(
        def,
        `join condition ${condition.left} = ${condition.right} compares a ${lt} with a ${rt}`,
        condition.left,
      );
    }
    conditions[0].push(l);
    conditions[1].push(r);
  }
  const covered = (side: 0 | 1) => sides[side].schema.keyIndexes.every((k) => conditions[side].includes(k));
  const outer: [boolean, boolean] = [
    spec.type === "leftouter" || spec.type === "fullouter",
    spec.type === "rightouter" || spec.type === "fullouter",
  ];
  let factSide: 0 | 1 | undefined;
  if (spec.noRegenerates) {
    if (spec.type === "fullouter") throw windowError(def, "no-regenerates does not apply to a fullouter join");
    factSide = spec.type === "rightouter" ? 1 : 0;
    const dimension = factSide === 0 ? 1 : 0;
    if (!covered(dimension)) {
      throw windowError(
        def,
        `no-regenerates needs the join conditions to cover the key of the ${dimension === 1 ? "right" : "left"} (dimension) input "${sides[dimension].name}"`,
      );
    }
  }
  // A joined row is identified by the left key when each left row pairs with at most one right
  // row (the right key is covered by the conditions), by the right key in the mirror case, else by
  // both; unmatched rows of an outer side add that side's key.
  let needLeft: boolean;
  let needRight: boolean;
  if (covered(1)) {
    needLeft = true;
    needRight = outer[1];
  } else if (covered(0)) {
    needRight = true;
    needLeft = outer[0];
  } else {
    needLeft = true;
    needRight = true;
  }

  const pairSchema = createSchema([
    ...sides[0].schema.fields.map((f) => ({ name: `l_${f.name}`, type: f.type })),
    ...sides[1].schema.fields.map((f) => ({ name: `r_${f.name}`, type: f.type })),
  ]);
  const scope = unionScope(
    schemaScope(sides[0].schema, "l_"),
    schemaScope(sides[1].schema, "r_", sides[0].schema.fields.length),
  );
  const entries: Entry[] = spec.output.map((out) => {
    const text = "source" in out ? out.source : out.expr.text;
    const selected = sourceOf(text);
    if ("source" in out && selected === undefined) {
      throw windowError(
        def,
        `field-selection "${out.name}": source "${out.source}" must be l_<field> or r_<field>`,
        out.name,
      );
    }
    if (selected !== undefined) {
      const index = sides[selected.side].schema.indexOf(selected.field);
      if (index < 0) {
        const which = selected.side === 0 ? "left" : "right";
        throw windowError(
          def,
          `output "${out.name}": "${selected.field}" is not a field of the ${which} input "${sides[selected.side].name}"`,
          out.name,
        );
      }
      const type = "type" in out ? out.type : sides[selected.side].schema.fields[index]!.type;
      return { name: out.name, type, key: false, column: { side: selected.side, index } };
    }
    const exprOut = out as { name: string; type: FieldType; expr: ExprText };
    const expr = compileSpecExpr(exprOut.expr, scope, def.name);
    if (!assignable(expr.cls, exprOut.type)) {
      throw windowError(
        def,
        `output "${out.name}" is ${exprOut.type} but its expression gives a ${expr.cls}`,
        out.name,
      );
    }
    return { name: out.name, type: exprOut.type, key: false, column: { expr } };
  });
  const added: Entry[] = [];
  const requireKeys = (side: 0 | 1) => {
    for (const index of sides[side].schema.keyIndexes) {
      const existing = entries.find((e) => e.column.side === side && e.column.index === index);
      if (existing !== undefined) {
        existing.key = true;
        continue;
      }
      const field = sides[side].schema.fields[index]!;
      if (entries.some((e) => e.name === field.name) || added.some((e) => e.name === field.name)) {
        throw windowError(
          def,
          `the join output needs the ${side === 0 ? "left" : "right"} key field "${field.name}" but another output field has that name; select it under another name (source="${side === 0 ? "l" : "r"}_${field.name}")`,
          field.name,
        );
      }
      added.push({ name: field.name, type: field.type, key: true, column: { side, index } });
    }
  };
  if (needLeft) requireKeys(0);
  if (needRight) requireKeys(1);
  const all = [...added, ...entries];
  let schema: Schema;
  try {
    schema = createSchema(all.map((e) => ({ name: e.name, type: e.type, key: e.key })));
  } catch (error) {
    throw windowError(def, `join output: ${MeshError.from(error).message}`);
  }
  const ordered = schema.keyIndexes.map((i) => {
    const column = all[i]!.column;
    return { side: column.side!, index: column.index! };
  });
  const lineage = all.map((e) =>
    e.column.side === undefined ? [] : (sides[e.column.side].lineage[e.column.index] ?? []),
  );
  return {
    spec,
    schema,
    columns: all.map((e) => e.column),
    conditions,
    keySources: ordered,
    pairSchema,
    factSide,
    outer,
    lineage,
  };
}
