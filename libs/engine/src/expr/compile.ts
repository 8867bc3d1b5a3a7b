import { allocateValues, type Column, type FieldType } from "@espmesh/events";
import { float64s, uint8s } from "@espmesh/events/internal";
import type { SourcePosition } from "../errors.js";
import type { ExprNode, ValueClass } from "./ast.js";
import { checkExpression, type ExprScope, type TypedNode } from "./check.js";
import { parseExpression } from "./parser.js";
import type { ExprOrigin } from "./tokenizer.js";
import { Vec } from "./vec.js";

/** What an expression reads: a list of columns (a batch, or any object with its columns). */
export interface EvalSource {
  readonly columns: readonly Column[];
}

/**
 * Evaluates rows `sel[0..n)` of `source` (rows `0..n` when `sel` is null) into a vector that is
 * reused by the next call: read it before evaluating again.
 */
export type Kernel = (source: EvalSource, sel: Uint32Array | null, n: number) => Vec;

/** A compiled expression. */
export interface CompiledExpr {
  /** The value class of its result. */
  readonly cls: ValueClass;
  /** The expression as written. */
  readonly text: string;
  /** Where it starts in the project file. */
  readonly pos: SourcePosition;
  /** Evaluates it column-wise; see {@link Kernel}. */
  readonly evaluate: Kernel;
}

/**
 * Parses, type-checks and compiles an expression against a scope.
 * @throws MeshError INVALID_ARGUMENT with the line:column of a syntax or type error.
 */
export function compileExpression(text: string, scope: ExprScope, origin: ExprOrigin): CompiledExpr {
  const ast = parseExpression(text, origin);
  return compileAst(ast, scope, text, origin.window);
}

/** Type-checks and compiles an already parsed expression. */
export function compileAst(ast: ExprNode, scope: ExprScope, text: string, window?: string): CompiledExpr {
  const typed = checkExpression(ast, scope, window);
  return { cls: typed.cls, text, pos: ast.pos, evaluate: compileNode(typed) };
}

function bitSet(bitmap: Uint8Array, row: number): boolean {
  return (bitmap[row >>> 3]! & (1 << (row & 7))) !== 0;
}

/** Compiles a typed node into a kernel: a closure over child kernels and its own result vector. */
export function compileNode(node: TypedNode): Kernel {
  switch (node.kind) {
    case "literal":
      return literalKernel(node.cls, node.value);
    case "field":
      return fieldKernel(node.cls, node.index);
    case "unary":
      return unaryKernel(node.op, node.cls, compileNode(node.arg));
    case "binary":
      return binaryKernel(node, compileNode(node.left), compileNode(node.right));
    case "call": {
      const args = node.args.map(compileNode);
      const fn = node.fn;
      const out = new Vec(node.cls);
      const values: Vec[] = new Array<Vec>(args.length);
      return (source, sel, n) => {
        for (let i = 0; i < args.length; i++) values[i] = args[i]!(source, sel, n);
        out.ensure(n);
        fn.run(out, values, n);
        return out;
      };
    }
  }
}

function literalKernel(cls: ValueClass, value: number | string | boolean | null): Kernel {
  const out = new Vec(cls);
  const fill = (): void => {
    if (value === null) {
      out.nulls.fill(1);
      out.anyNull = true;
    } else if (typeof value === "string") out.str.fill(value);
    else out.num.fill(typeof value === "boolean" ? (value ? 1 : 0) : value);
  };
  fill();
  return (_source, _sel, n) => {
    if (out.ensure(n)) fill();
    return out;
  };
}

function fieldKernel(cls: ValueClass, index: number): Kernel {
  const out = new Vec(cls);
  return (source, sel, n) => {
    out.ensure(n);
    const column = source.columns[index]!;
    const values = column.values;
    if (cls === "string" || cls === "blob") {
      const target: unknown[] = cls === "string" ? out.str : out.bytes;
      const from = values as unknown[];
      if (sel === null) for (let k = 0; k < n; k++) target[k] = from[k];
      else for (let k = 0; k < n; k++) target[k] = from[sel[k]!];
    } else {
      const from = values as Float64Array | Int32Array | Uint8Array;
      const o = out.num;
      if (sel === null) o.set(from.subarray(0, n));
      else for (let k = 0; k < n; k++) o[k] = from[sel[k]!]!;
    }
    const bitmap = column.nulls;
    if (bitmap === undefined) {
      out.clearNulls(n);
    } else {
      let any = false;
      const nulls = out.nulls;
      for (let k = 0; k < n; k++) {
        const isNull = bitSet(bitmap, sel === null ? k : sel[k]!);
        nulls[k] = isNull ? 1 : 0;
        any ||= isNull;
      }
      out.anyNull = any;
    }
    return out;
  };
}

function unaryKernel(op: "-" | "not", cls: ValueClass, arg: Kernel): Kernel {
  const out = new Vec(cls);
  if (op === "-") {
    return (source, sel, n) => {
      const a = arg(source, sel, n);
      out.ensure(n);
      const x = a.num;
      const o = out.num;
      for (let k = 0; k < n; k++) o[k] = -x[k]!;
      out.unionNulls(n, a);
      return out;
    };
  }
  // not: a null operand counts as false, so `not null` is true; the result is never null.
  return (source, sel, n) => {
    const a = arg(source, sel, n);
    out.ensure(n);
    const x = a.num;
    const o = out.num;
    for (let k = 0; k < n; k++) o[k] = x[k] === 0 ? 1 : 0;
    if (a.anyNull) for (let k = 0; k < n; k++) if (a.nulls[k] === 1) o[k] = 1;
    out.clearNulls(n);
    return out;
  };
}

type BinaryNode = Extract<TypedNode, { kind: "binary" }>;

function binaryKernel(node: BinaryNode, left: Kernel, right: Kernel): Kernel {
  const out = new Vec(node.cls);
  const op = node.op;
  if (op === "and" || op === "or") {
    const isAnd = op === "and";
    return (source, sel, n) => {
      const a = left(source, sel, n);
      const b = right(source, sel, n);
      out.ensure(n);
      const x = a.num;
      const y = b.num;
      const o = out.num;
      const an = a.anyNull;
      const bn = b.anyNull;
      for (let k = 0; k < n; k++) {
        const p = x[k] !== 0 && !(an && a.nulls[k] === 1);
        const q = y[k] !== 0 && !(bn && b.nulls[k] === 1);
        o[k] = (isAnd ? p && q : p || q) ? 1 : 0;
      }
      out.clearNulls(n);
      return out;
    };
  }
  if (op === "==" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=") {
    return comparisonKernel(op, node.operands, left, right, out);
  }
  if (node.operands === "string") {
    return (source, sel, n) => {
      const a = left(source, sel, n);
      const b = right(source, sel, n);
      out.ensure(n);
      for (let k = 0; k < n; k++) out.str[k] = a.str[k]! + b.str[k]!;
      out.unionNulls(n, a, b);
      return out;
    };
  }
  const compute = arithmetic(op);
  const mayFail = op === "/" || op === "%";
  return (source, sel, n) => {
    const a = left(source, sel, n);
    const b = right(source, sel, n);
    out.ensure(n);
    compute(out.num, a.num, b.num, n);
    out.unionNulls(n, a, b);
    if (mayFail) {
      // x / 0 and x % 0 are null.
      const y = b.num;
      for (let k = 0; k < n; k++) {
        if (y[k] === 0) {
          out.nulls[k] = 1;
          out.num[k] = 0;
          out.anyNull = true;
        }
      }
    }
    return out;
  };
}

function arithmetic(
  op: "+" | "-" | "*" | "/" | "%",
): (o: Float64Array, x: Float64Array, y: Float64Array, n: number) => void {
  switch (op) {
    case "+":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! + y[k]!;
      };
    case "-":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! - y[k]!;
      };
    case "*":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! * y[k]!;
      };
    case "/":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! / y[k]!;
      };
    case "%":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! % y[k]!;
      };
  }
}

type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

function compareResult(op: CompareOp, c: number): boolean {
  switch (op) {
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

function numericCompare(op: CompareOp): (o: Float64Array, x: Float64Array, y: Float64Array, n: number) => void {
  switch (op) {
    case "==":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k] === y[k] ? 1 : 0;
      };
    case "!=":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k] !== y[k] ? 1 : 0;
      };
    case "<":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! < y[k]! ? 1 : 0;
      };
    case "<=":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! <= y[k]! ? 1 : 0;
      };
    case ">":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! > y[k]! ? 1 : 0;
      };
    case ">=":
      return (o, x, y, n) => {
        for (let k = 0; k < n; k++) o[k] = x[k]! >= y[k]! ? 1 : 0;
      };
  }
}

function bytesCompare(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** A comparison with a null operand is false (so `x != null` is false too; use isnull). */
function comparisonKernel(op: CompareOp, operands: ValueClass, left: Kernel, right: Kernel, out: Vec): Kernel {
  const numeric = numericCompare(op);
  return (source, sel, n) => {
    const a = left(source, sel, n);
    const b = right(source, sel, n);
    out.ensure(n);
    const o = out.num;
    if (operands === "string") {
      for (let k = 0; k < n; k++) {
        const x = a.str[k]!;
        const y = b.str[k]!;
        o[k] = compareResult(op, x < y ? -1 : x > y ? 1 : 0) ? 1 : 0;
      }
    } else if (operands === "blob") {
      for (let k = 0; k < n; k++) o[k] = compareResult(op, bytesCompare(a.bytes[k]!, b.bytes[k]!)) ? 1 : 0;
    } else {
      numeric(o, a.num, b.num, n);
    }
    if (a.anyNull) for (let k = 0; k < n; k++) if (a.nulls[k] === 1) o[k] = 0;
    if (b.anyNull) for (let k = 0; k < n; k++) if (b.nulls[k] === 1) o[k] = 0;
    out.clearNulls(n);
    return out;
  };
}

/** Whether row k of a result is true (null and 0 are false; any other number is true). */
export function isTrue(vec: Vec, k: number): boolean {
  return vec.num[k] !== 0 && !(vec.anyNull && vec.nulls[k] === 1);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Copies rows 0..n of a result vector into a new column of a field type: numbers are truncated
 * toward zero for integer types (an int32 out of range is null), money is rounded to micro-units,
 * booleans become 1/0 in numeric fields.
 */
export function vecToColumn(vec: Vec, n: number, type: FieldType): Column {
  let nulls: Uint8Array | undefined;
  if (vec.anyNull) for (let k = 0; k < n; k++) if (vec.nulls[k] === 1) nulls = markNull(nulls, k, n);
  switch (type) {
    case "string": {
      const values = vec.cls === "string" ? vec.str.slice(0, n) : new Array<string>(n).fill("");
      if (nulls !== undefined) for (let k = 0; k < n; k++) if (vec.nulls[k] === 1) values[k] = "";
      return { type, values, nulls };
    }
    case "blob": {
      const empty = new Uint8Array(0);
      const values = vec.cls === "blob" ? vec.bytes.slice(0, n) : new Array<Uint8Array>(n).fill(empty);
      if (nulls !== undefined) for (let k = 0; k < n; k++) if (vec.nulls[k] === 1) values[k] = empty;
      return { type, values, nulls };
    }
    case "boolean": {
      const values = new Uint8Array(n);
      for (let k = 0; k < n; k++) values[k] = vec.num[k] !== 0 && !(vec.anyNull && vec.nulls[k] === 1) ? 1 : 0;
      return { type, values, nulls };
    }
    case "int32": {
      const values = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        if (vec.anyNull && vec.nulls[k] === 1) continue;
        const v = Math.trunc(vec.num[k]!);
        if (v >= INT32_MIN && v <= INT32_MAX) values[k] = v;
        else nulls = markNull(nulls, k, n);
      }
      return { type, values, nulls };
    }
    case "double": {
      const values = float64s(n);
      values.set(vec.num.subarray(0, n));
      return { type, values: maskNulls(values, vec, n), nulls };
    }
    case "money": {
      const values = new Float64Array(n);
      for (let k = 0; k < n; k++) values[k] = Math.round(vec.num[k]! * 1e6) / 1e6;
      return { type, values: maskNulls(values, vec, n), nulls };
    }
    default: {
      const values = new Float64Array(n);
      const needsTrunc = vec.cls !== "int" && vec.cls !== "boolean";
      if (needsTrunc) for (let k = 0; k < n; k++) values[k] = Math.trunc(vec.num[k]!);
      else values.set(vec.num.subarray(0, n));
      return { type, values: maskNulls(values, vec, n), nulls };
    }
  }
}

/** Sets bit `k` of a null bitmap of `n` rows, made when undefined; returns the bitmap. */
function markNull(nulls: Uint8Array | undefined, k: number, n: number): Uint8Array {
  const bitmap = nulls ?? new Uint8Array((n + 7) >>> 3);
  bitmap[k >>> 3] = bitmap[k >>> 3]! | (1 << (k & 7));
  return bitmap;
}

function maskNulls(values: Float64Array, vec: Vec, n: number): Float64Array {
  if (vec.anyNull) for (let k = 0; k < n; k++) if (vec.nulls[k] === 1) values[k] = 0;
  return values;
}

/**
 * {@link vecToColumn} into a column of `length` rows where result `k` goes to row `rows[k]`
 * (rows not named hold the type's zero and are not null): the column of a selection's source.
 */
export function vecToColumnAt(vec: Vec, n: number, type: FieldType, rows: Uint32Array, length: number): Column {
  if (type === "double") {
    const values = float64s(length);
    const num = vec.num;
    for (let k = 0; k < n; k++) values[rows[k]!] = num[k]!;
    if (!vec.anyNull) return { type, values, nulls: undefined };
    const nulls = uint8s((length + 7) >>> 3);
    for (let k = 0; k < n; k++) {
      if (vec.nulls[k] !== 1) continue;
      const row = rows[k]!;
      values[row] = 0;
      nulls[row >>> 3] = nulls[row >>> 3]! | (1 << (row & 7));
    }
    return { type, values, nulls };
  }
  const dense = vecToColumn(vec, n, type);
  const values = allocateValues(type, length);
  const from = dense.values as unknown as ArrayLike<unknown>;
  const to = values as unknown as unknown[];
  for (let k = 0; k < n; k++) to[rows[k]!] = from[k];
  let nulls: Uint8Array | undefined;
  if (dense.nulls !== undefined) {
    const bitmap = new Uint8Array((length + 7) >>> 3);
    for (let k = 0; k < n; k++) {
      if (!bitSet(dense.nulls, k)) continue;
      const row = rows[k]!;
      bitmap[row >>> 3] = bitmap[row >>> 3]! | (1 << (row & 7));
    }
    nulls = bitmap;
  }
  return { type, values, nulls };
}
