import { createSchema, type FieldType, type Schema, type Value } from "@espmesh/events";
import { loadError } from "../errors.js";
import type { ExprNode, ValueClass } from "../expr/ast.js";
import { assignable } from "../expr/check.js";
import { type CompiledExpr, compileAst } from "../expr/compile.js";
import { parseExpression } from "../expr/parser.js";
import type { WindowDef, WindowModel } from "../model/project-model.js";
import { type AggregateCall, compileAggregateCall, isAggregateCall } from "./aggregate-calls.js";
import { schemaScope, windowError } from "./common.js";
import { bindFieldExprs } from "./compute.js";

/** How one non-key output field of an aggregate is computed. */
export interface AggregateField {
  /** Index of the field in the output schema. */
  readonly index: number;
  readonly type: FieldType;
  /** The field is exactly this call's result. */
  readonly direct: number | undefined;
  /** Otherwise an expression over the results (`$aggN` columns, then the group-by fields). */
  readonly expr: CompiledExpr | undefined;
}

/** A compiled aggregate window: its calls, group-by and output fields. */
export interface AggregatePlan {
  readonly calls: readonly AggregateCall[];
  readonly fields: readonly AggregateField[];
  /** Input column of each group-by (output key) field, in output key order. */
  readonly groupBy: readonly number[];
  /** Output column of each group-by field. */
  readonly keyColumns: readonly number[];
  /** Schema of the results batch outer expressions read. */
  readonly resultsSchema: Schema;
  /** Total argument count over all calls (a held event's argument list). */
  readonly argCount: number;
}

function fieldTypeOf(cls: ValueClass): FieldType {
  switch (cls) {
    case "int":
      return "int64";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "blob":
      return "blob";
    default:
      return "double";
  }
}

/**
 * Compiles an aggregate window: every `ESP_a*` call in the field expressions is checked against
 * the input schema and replaced by a reference to its result; what remains of each expression is
 * checked against the results and the group-by fields.
 * @throws MeshError INVALID_ARGUMENT with the position of the problem.
 */
export function planAggregate(def: WindowDef, schema: Schema, input: WindowModel): AggregatePlan {
  const inputScope = schemaScope(input.schema);
  const keyColumns = schema.keyIndexes;
  if (keyColumns.length === 0) throw windowError(def, "an aggregate window needs key fields: they are its group-by");
  const groupBy = keyColumns.map((index) => {
    const field = schema.fields[index]!;
    const source = input.schema.indexOf(field.name);
    if (source < 0) {
      throw windowError(def, `group-by field "${field.name}" must be a field of the input "${input.name}"`, field.name);
    }
    if (input.schema.fields[source]!.type !== field.type) {
      throw windowError(
        def,
        `group-by field "${field.name}" is ${field.type} but the input's is ${input.schema.fields[source]!.type}`,
        field.name,
      );
    }
    return source;
  });
  const keyNames = keyColumns.map((index) => schema.fields[index]!.name);
  const calls: AggregateCall[] = [];
  let argCount = 0;
  const bound = bindFieldExprs(def, schema);
  const rewritten: { index: number; ast: ExprNode; text: string }[] = [];
  const rewrite = (node: ExprNode): ExprNode => {
    if (node.kind === "call" && isAggregateCall(node)) {
      const call = compileAggregateCall(node, inputScope, def.name, argCount);
      argCount += call.args.length;
      calls.push(call);
      return { kind: "field", name: `$agg${calls.length - 1}`, pos: node.pos };
    }
    switch (node.kind) {
      case "field":
        if (!keyNames.includes(node.name)) {
          throw loadError(
            `field "${node.name}" must be inside an aggregate function (like ESP_aLast(${node.name})) or be a group-by field`,
            { ...node.pos, window: def.name, field: node.name },
          );
        }
        return node;
      case "unary":
        return { ...node, arg: rewrite(node.arg) };
      case "binary":
        return { ...node, left: rewrite(node.left), right: rewrite(node.right) };
      case "call":
        return { ...node, args: node.args.map(rewrite) };
      default:
        return node;
    }
  };
  schema.fields.forEach((field, index) => {
    if (field.key) return;
    const text = bound.get(field.name)!;
    const ast = parseExpression(text.text, { line: text.line, column: text.column, window: def.name });
    rewritten.push({ index, ast: rewrite(ast), text: text.text });
  });
  const resultsSchema = createSchema([
    ...calls.map((call, i) => ({ name: `$agg${i}`, type: fieldTypeOf(call.cls) })),
    ...keyColumns.map((index) => ({ name: schema.fields[index]!.name, type: schema.fields[index]!.type })),
  ]);
  const resultsScope = schemaScope(resultsSchema);
  const fields = rewritten.map(({ index, ast, text }): AggregateField => {
    const field = schema.fields[index]!;
    const direct = ast.kind === "field" && ast.name.startsWith("$agg") ? Number(ast.name.slice(4)) : undefined;
    const expr = direct === undefined ? compileAst(ast, resultsScope, text, def.name) : undefined;
    const cls = direct === undefined ? expr!.cls : calls[direct]!.cls;
    if (!assignable(cls, field.type)) {
      throw loadError(`field "${field.name}" is ${field.type} but its expression gives a ${cls}`, {
        ...ast.pos,
        window: def.name,
        field: field.name,
      });
    }
    return { index, type: field.type, direct, expr };
  });
  return { calls, fields, groupBy, keyColumns, resultsSchema, argCount };
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** A computed value stored into a field type (integers truncated, money rounded, int32 range checked). */
export function coerceOut(value: Value, type: FieldType): Value {
  if (value === null) return null;
  switch (type) {
    case "int32": {
      const v = Math.trunc(typeof value === "boolean" ? Number(value) : (value as number));
      return v >= INT32_MIN && v <= INT32_MAX ? v : null;
    }
    case "int64":
    case "date":
    case "stamp":
      return Math.trunc(typeof value === "boolean" ? Number(value) : (value as number));
    case "money":
      return Math.round((value as number) * 1e6) / 1e6;
    case "double":
      return typeof value === "boolean" ? Number(value) : value;
    default:
      return value;
  }
}
