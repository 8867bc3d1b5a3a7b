import { loadError } from "../errors.js";
import type { ExprNode, ValueClass } from "../expr/ast.js";
import { type ExprScope, isNumeric } from "../expr/check.js";
import { type CompiledExpr, compileAst } from "../expr/compile.js";

/** The aggregate functions, by their name without `ESP_a` and `Timed`. */
export type AggregateName = "sum" | "count" | "ave" | "min" | "max" | "first" | "last" | "std" | "lag" | "cat" | "wave";

const NAMES: ReadonlyMap<string, AggregateName> = new Map([
  ["sum", "sum"],
  ["count", "count"],
  ["ave", "ave"],
  ["avg", "ave"],
  ["min", "min"],
  ["max", "max"],
  ["first", "first"],
  ["last", "last"],
  ["std", "std"],
  ["lag", "lag"],
  ["cat", "cat"],
  ["wave", "wave"],
]);

/** Functions maintained incrementally with retraction (no need to keep the group's events). */
const ADDITIVE: ReadonlySet<AggregateName> = new Set(["sum", "count", "ave", "std", "wave"]);

/** One aggregate function call found in a field expression. */
export interface AggregateCall {
  readonly name: AggregateName;
  /** `*Timed`: only the group's events that arrived in the last `period` count. */
  readonly timed: boolean;
  /** Period of a timed call in microseconds. */
  readonly period: number;
  /** Row expressions of the value arguments (evaluated over the input batch). */
  readonly args: readonly CompiledExpr[];
  /** For each argument that is a bare field reference, its input column (read in place). */
  readonly argColumns: readonly (number | undefined)[];
  /** ESP_aLag: how many events back (0 = the last). */
  readonly lag: number;
  /** ESP_aCat: the separator. */
  readonly separator: string;
  /** Class of the result. */
  readonly cls: ValueClass;
  /** Maintained with add/retract rather than recomputed from the group's events. */
  readonly additive: boolean;
  /** Offset of its arguments in a member's flat argument list. */
  readonly argOffset: number;
}

/** The call name pattern: ESP_aSum, ESP_aCountTimed, ... (case-insensitive). */
const CALL = /^esp_a([a-z]+?)(timed)?$/i;

/** Whether a call node is an aggregate function call. */
export function isAggregateCall(node: ExprNode): boolean {
  return node.kind === "call" && CALL.test(node.name) && NAMES.has(CALL.exec(node.name)![1]!.toLowerCase());
}

function literalNumber(node: ExprNode | undefined): number | undefined {
  if (node?.kind === "literal" && typeof node.value === "number") return node.value;
  if (node?.kind === "unary" && node.op === "-" && node.arg.kind === "literal" && typeof node.arg.value === "number") {
    return -node.arg.value;
  }
  return undefined;
}

/**
 * Checks one aggregate call against the input scope and compiles its arguments.
 * @throws MeshError INVALID_ARGUMENT at the call's position.
 */
export function compileAggregateCall(
  node: Extract<ExprNode, { kind: "call" }>,
  scope: ExprScope,
  window: string,
  argOffset: number,
): AggregateCall {
  const match = CALL.exec(node.name)!;
  const name = NAMES.get(match[1]!.toLowerCase())!;
  const timed = match[2] !== undefined;
  const fail = (message: string): never => {
    throw loadError(`${node.name}: ${message}`, { ...node.pos, window });
  };
  let argNodes = [...node.args];
  let period = 0;
  if (timed) {
    const seconds = literalNumber(argNodes[argNodes.length - 1]);
    if (seconds === undefined || seconds <= 0)
      fail("the last argument of a Timed function is its period in seconds (a positive number)");
    period = Math.round(seconds! * 1e6);
    argNodes = argNodes.slice(0, -1);
  }
  let lag = 0;
  let separator = ",";
  if (name === "lag") {
    if (argNodes.length === 2) {
      const n = literalNumber(argNodes[1]);
      if (n === undefined || !Number.isInteger(n) || n < 0) fail("the lag must be a non-negative integer literal");
      lag = n!;
      argNodes = argNodes.slice(0, 1);
    } else {
      lag = 1;
    }
  }
  if (name === "cat" && argNodes.length === 2) {
    const sep = argNodes[1]!;
    if (sep.kind !== "literal" || typeof sep.value !== "string") fail("the separator must be a string literal");
    separator = (sep as { value: string }).value;
    argNodes = argNodes.slice(0, 1);
  }
  const expected = name === "count" ? [0, 1] : name === "wave" ? [2, 2] : [1, 1];
  if (argNodes.length < expected[0]! || argNodes.length > expected[1]!) {
    const what = expected[0] === expected[1] ? `${expected[0]}` : `${expected[0]} or ${expected[1]}`;
    fail(`takes ${what} value argument(s)${timed ? " plus the period" : ""}, got ${argNodes.length}`);
  }
  const args = argNodes.map((arg) => {
    if (isAggregateCall(arg)) fail("aggregate functions cannot be nested");
    return compileAst(arg, scope, "", window);
  });
  const argColumns = argNodes.map((arg) => (arg.kind === "field" ? scope.resolve(arg.name)?.index : undefined));
  const argCls = args.map((arg) => arg.cls);
  let cls: ValueClass;
  switch (name) {
    case "sum":
      if (!isNumeric(argCls[0]!)) fail(`needs a number, not a ${argCls[0]}`);
      cls = argCls[0] === "int" ? "int" : "double";
      break;
    case "count":
      cls = "int";
      break;
    case "ave":
    case "std":
      if (!isNumeric(argCls[0]!)) fail(`needs a number, not a ${argCls[0]}`);
      cls = "double";
      break;
    case "wave":
      if (!isNumeric(argCls[0]!) || !isNumeric(argCls[1]!)) fail("needs a numeric weight and value");
      cls = "double";
      break;
    case "min":
    case "max":
      if (!isNumeric(argCls[0]!) && argCls[0] !== "string") fail(`needs a number or a string, not a ${argCls[0]}`);
      cls = argCls[0] === "null" ? "double" : argCls[0]!;
      break;
    case "cat":
      cls = "string";
      break;
    default:
      cls = argCls[0] === "null" ? "double" : argCls[0]!;
  }
  return {
    name,
    timed,
    period,
    args,
    argColumns,
    lag,
    separator,
    cls,
    additive: ADDITIVE.has(name) && !timed,
    argOffset,
  };
}
