import type { Column, Value } from "@espmesh/events";
import type { ValueClass } from "../../expr/ast.js";
import type { TypedNode } from "../../expr/check.js";
import { Vec } from "../../expr/vec.js";

/**
 * A value as scalar pattern expressions compute it: numbers (booleans as 1/0), strings, bytes or
 * null. `undefined` in a variable slot means "not bound yet".
 */
export type Scalar = number | string | Uint8Array | null;

/**
 * What a scalar expression reads: the fields of one event (row `row` of `columns`, or captured
 * values in `fields`) and the pattern's variables.
 */
export interface ScalarEnv {
  columns: readonly Column[];
  row: number;
  fields: readonly Value[];
  vars: readonly (Scalar | undefined)[];
}

/** A compiled scalar expression. */
export type ScalarFn = (env: ScalarEnv) => Scalar;

/**
 * How field references of a typed expression are read: indexes below `varBase` are event fields
 * (columns of `env.columns` at `env.row` when `from` is "row", `env.fields` when "captured"), the
 * others are variables `index - varBase`.
 */
export interface ScalarLayout {
  readonly varBase: number;
  readonly from: "row" | "captured";
}

function bitSet(bitmap: Uint8Array, row: number): boolean {
  return (bitmap[row >>> 3]! & (1 << (row & 7))) !== 0;
}

/** A JS value of a field as a scalar (booleans become 1/0). */
export function toScalar(value: Value | undefined): Scalar {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

function truthy(value: Scalar): boolean {
  return value !== null && value !== 0;
}

function compare(a: Scalar, b: Scalar): number {
  if (typeof a === "number") return a < (b as number) ? -1 : a > (b as number) ? 1 : a === b ? 0 : Number.NaN;
  if (typeof a === "string") return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  const x = a as Uint8Array;
  const y = b as Uint8Array;
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/**
 * Compiles a type-checked expression into a closure over one event and the variables, with the
 * same semantics as the column kernels of `expr/compile.ts`: a comparison with a null operand is
 * false, `and`/`or` treat null as false, arithmetic on null is null, `x / 0` and `x % 0` are null,
 * functions run through their vector implementation on one row.
 */
export function compileScalar(node: TypedNode, layout: ScalarLayout): ScalarFn {
  switch (node.kind) {
    case "literal": {
      const value: Scalar = typeof node.value === "boolean" ? (node.value ? 1 : 0) : node.value;
      return () => value;
    }
    case "field":
      return fieldReader(node.index, layout);
    case "unary": {
      const arg = compileScalar(node.arg, layout);
      if (node.op === "-") {
        return (env) => {
          const x = arg(env);
          return x === null ? null : -(x as number);
        };
      }
      return (env) => (truthy(arg(env)) ? 0 : 1);
    }
    case "binary":
      return (
        fastCompare(node, layout) ?? binary(node, compileScalar(node.left, layout), compileScalar(node.right, layout))
      );
    case "call":
      return call(node, layout);
  }
}

function fieldReader(index: number, layout: ScalarLayout): ScalarFn {
  if (index >= layout.varBase) {
    const slot = index - layout.varBase;
    return (env) => env.vars[slot] ?? null;
  }
  if (layout.from === "captured") return (env) => toScalar(env.fields[index]);
  return (env) => {
    const column = env.columns[index]!;
    const row = env.row;
    if (column.nulls !== undefined && bitSet(column.nulls, row)) return null;
    return column.values[row] as Scalar;
  };
}

type BinaryNode = Extract<TypedNode, { kind: "binary" }>;

type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
const COMPARISONS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);

/** A numeric reader of a field or variable, or a constant, without intermediate closures. */
type Operand =
  | { kind: "const"; value: number }
  | { kind: "var"; slot: number }
  | { kind: "column"; index: number }
  | undefined;

function operandOf(node: TypedNode, layout: ScalarLayout): Operand {
  if (node.kind === "literal" && typeof node.value === "number") return { kind: "const", value: node.value };
  if (node.kind !== "field" || node.type === "boolean") return undefined;
  if (node.index >= layout.varBase) return { kind: "var", slot: node.index - layout.varBase };
  return layout.from === "row" ? { kind: "column", index: node.index } : undefined;
}

function test(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

/**
 * `column OP variable` (either way round) and `column OP constant` on numbers, the usual shape of
 * pattern conditions (`price > p0`), compiled to one closure that reads both sides directly.
 */
function fastCompare(node: BinaryNode, layout: ScalarLayout): ScalarFn | undefined {
  if (!COMPARISONS.has(node.op)) return undefined;
  const op = node.op as CompareOp;
  if (node.operands !== "int" && node.operands !== "double") return undefined;
  const left = operandOf(node.left, layout);
  const right = operandOf(node.right, layout);
  if (left === undefined || right === undefined) return undefined;
  const columnSide = left.kind === "column" ? left : right.kind === "column" ? right : undefined;
  const other = columnSide === left ? right : left;
  if (columnSide === undefined || other.kind === "column") return undefined;
  const index = columnSide.index;
  const flipped = columnSide === right;
  const read = (env: ScalarEnv): number | null => {
    const column = env.columns[index]!;
    const row = env.row;
    if (column.nulls !== undefined && bitSet(column.nulls, row)) return null;
    return column.values[row] as number;
  };
  if (other.kind === "const") {
    const value = other.value;
    return (env) => {
      const x = read(env);
      return x !== null && (flipped ? test(op, value, x) : test(op, x, value)) ? 1 : 0;
    };
  }
  const slot = other.slot;
  return (env) => {
    const x = read(env);
    const y = env.vars[slot];
    if (x === null || y === null || y === undefined) return 0;
    return (flipped ? test(op, y as number, x) : test(op, x, y as number)) ? 1 : 0;
  };
}

function binary(node: BinaryNode, left: ScalarFn, right: ScalarFn): ScalarFn {
  switch (node.op) {
    case "and":
      return (env) => (truthy(left(env)) && truthy(right(env)) ? 1 : 0);
    case "or":
      return (env) => (truthy(left(env)) || truthy(right(env)) ? 1 : 0);
    case "==":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) === 0 ? 1 : 0;
      };
    case "!=":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) !== 0 ? 1 : 0;
      };
    case "<":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) < 0 ? 1 : 0;
      };
    case "<=":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) <= 0 ? 1 : 0;
      };
    case ">":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) > 0 ? 1 : 0;
      };
    case ">=":
      return (env) => {
        const a = left(env);
        const b = right(env);
        return a !== null && b !== null && compare(a, b) >= 0 ? 1 : 0;
      };
    default:
      return arithmetic(node, left, right);
  }
}

function arithmetic(node: BinaryNode, left: ScalarFn, right: ScalarFn): ScalarFn {
  const op = node.op;
  if (op === "+" && node.operands === "string") {
    return (env) => {
      const a = left(env);
      const b = right(env);
      return a === null || b === null ? null : (a as string) + (b as string);
    };
  }
  const f =
    op === "+"
      ? (x: number, y: number) => x + y
      : op === "-"
        ? (x: number, y: number) => x - y
        : op === "*"
          ? (x: number, y: number) => x * y
          : op === "/"
            ? (x: number, y: number) => (y === 0 ? null : x / y)
            : (x: number, y: number) => (y === 0 ? null : x % y);
  return (env) => {
    const a = left(env);
    const b = right(env);
    return a === null || b === null ? null : f(a as number, b as number);
  };
}

function setVec(vec: Vec, cls: ValueClass, value: Scalar): void {
  vec.anyNull = value === null;
  vec.nulls[0] = value === null ? 1 : 0;
  if (value === null) return;
  if (cls === "string") vec.str[0] = value as string;
  else if (cls === "blob") vec.bytes[0] = value as Uint8Array;
  else vec.num[0] = value as number;
}

function readVec(vec: Vec): Scalar {
  if (vec.anyNull && vec.nulls[0] === 1) return null;
  if (vec.cls === "string") return vec.str[0] ?? "";
  if (vec.cls === "blob") return vec.bytes[0] ?? new Uint8Array(0);
  if (vec.cls === "null") return null;
  return vec.num[0] ?? 0;
}

function call(node: Extract<TypedNode, { kind: "call" }>, layout: ScalarLayout): ScalarFn {
  const args = node.args.map((arg) => compileScalar(arg, layout));
  const vecs = node.args.map((arg) => new Vec(arg.cls, 1));
  const out = new Vec(node.cls, 1);
  const fn = node.fn;
  return (env) => {
    for (let i = 0; i < args.length; i++) setVec(vecs[i]!, node.args[i]!.cls, args[i]!(env));
    out.clearNulls(1);
    fn.run(out, vecs, 1);
    return readVec(out);
  };
}
