import type { FieldType } from "@espmesh/events";
import { loadError, type SourcePosition } from "../errors.js";
import type { BinaryOp, ExprNode, UnaryOp, ValueClass } from "./ast.js";
import { type FunctionDef, lookupFunction } from "./functions.js";

/** Resolves the field names an expression may use to the columns it reads. */
export interface ExprScope {
  /** The column index and type of a field, or undefined when the name is unknown. */
  resolve(name: string): { readonly index: number; readonly type: FieldType } | undefined;
  /** The names in scope, for "did you mean" hints. */
  names(): readonly string[];
}

/** A type-checked expression node: the AST with value classes and resolved columns. */
export type TypedNode =
  | { readonly kind: "literal"; readonly cls: ValueClass; readonly value: number | string | boolean | null }
  | { readonly kind: "field"; readonly cls: ValueClass; readonly index: number; readonly type: FieldType }
  | { readonly kind: "unary"; readonly cls: ValueClass; readonly op: UnaryOp; readonly arg: TypedNode }
  | {
      readonly kind: "binary";
      readonly cls: ValueClass;
      readonly op: BinaryOp;
      /** The class both operands are compared or computed in. */
      readonly operands: ValueClass;
      readonly left: TypedNode;
      readonly right: TypedNode;
    }
  | { readonly kind: "call"; readonly cls: ValueClass; readonly fn: FunctionDef; readonly args: readonly TypedNode[] };

/** The value class of an ESP field type. */
export function classOf(type: FieldType): ValueClass {
  switch (type) {
    case "int32":
    case "int64":
    case "date":
    case "stamp":
      return "int";
    case "double":
    case "money":
      return "double";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "blob":
      return "blob";
  }
}

/** Whether a class is numeric (or null, which fits anywhere). */
export function isNumeric(cls: ValueClass): boolean {
  return cls === "int" || cls === "double" || cls === "null";
}

/** The common class of two numeric classes: int only when both are int. */
export function numericJoin(a: ValueClass, b: ValueClass): ValueClass {
  if (a === "null") return b === "null" ? "double" : b;
  if (b === "null") return a;
  return a === "int" && b === "int" ? "int" : "double";
}

/**
 * Whether a value of class `cls` can be stored in a field of `type`: numbers into any numeric
 * type (truncated toward zero for integer types), booleans into booleans or numbers (1/0),
 * strings into strings, blobs into blobs, null into anything.
 */
export function assignable(cls: ValueClass, type: FieldType): boolean {
  const target = classOf(type);
  if (cls === "null" || cls === target) return true;
  if (target === "int" || target === "double") return cls === "int" || cls === "double" || cls === "boolean";
  return false;
}

function fail(message: string, pos: SourcePosition, window: string | undefined): never {
  throw loadError(message, { ...pos, window });
}

function suggestion(name: string, names: readonly string[]): string {
  const lower = name.toLowerCase();
  const close = names.find((candidate) => candidate.toLowerCase() === lower);
  if (close !== undefined) return ` (did you mean "${close}"? field names are case-sensitive)`;
  return names.length > 0 && names.length <= 30 ? ` (fields: ${names.join(", ")})` : "";
}

/**
 * Type-checks an expression against a scope: every field must exist, every operator and function
 * must get operands of classes it accepts.
 * @throws MeshError INVALID_ARGUMENT with the line:column of the offending node.
 */
export function checkExpression(node: ExprNode, scope: ExprScope, window?: string): TypedNode {
  const check = (n: ExprNode): TypedNode => checkExpression(n, scope, window);
  switch (node.kind) {
    case "literal": {
      const value = node.value;
      const cls: ValueClass =
        value === null
          ? "null"
          : typeof value === "string"
            ? "string"
            : typeof value === "boolean"
              ? "boolean"
              : Number.isInteger(value)
                ? "int"
                : "double";
      return { kind: "literal", cls, value };
    }
    case "field": {
      const resolved = scope.resolve(node.name);
      if (resolved === undefined) {
        fail(`unknown field "${node.name}"${suggestion(node.name, scope.names())}`, node.pos, window);
      }
      return { kind: "field", cls: classOf(resolved.type), index: resolved.index, type: resolved.type };
    }
    case "unary": {
      const arg = check(node.arg);
      if (node.op === "-") {
        if (!isNumeric(arg.cls)) fail(`cannot negate a ${arg.cls}`, node.pos, window);
        return { kind: "unary", op: "-", arg, cls: arg.cls === "null" ? "double" : arg.cls };
      }
      if (!isLogical(arg.cls)) fail(`"not" needs a boolean, not a ${arg.cls}`, node.pos, window);
      return { kind: "unary", op: "not", arg, cls: "boolean" };
    }
    case "binary": {
      const left = check(node.left);
      const right = check(node.right);
      return checkBinary(node.op, left, right, node.pos, window);
    }
    case "call": {
      const fn = lookupFunction(node.name);
      if (fn === undefined) {
        const hint = /^esp_a/i.test(node.name) ? " (aggregate functions are allowed only in aggregate windows)" : "";
        fail(`unknown function "${node.name}"${hint}`, node.pos, window);
      }
      const args = node.args.map(check);
      const result = fn.check(
        args.map((arg) => arg.cls),
        (message) => fail(`${fn.name}: ${message}`, node.pos, window),
      );
      return { kind: "call", fn, args, cls: result };
    }
  }
}

function isLogical(cls: ValueClass): boolean {
  return cls === "boolean" || cls === "int" || cls === "double" || cls === "null";
}

function checkBinary(
  op: BinaryOp,
  left: TypedNode,
  right: TypedNode,
  pos: SourcePosition,
  window: string | undefined,
): TypedNode {
  const a = left.cls;
  const b = right.cls;
  const mismatch = (): never => fail(`type mismatch: ${a} ${op} ${b}`, pos, window);
  switch (op) {
    case "and":
    case "or":
      if (!isLogical(a) || !isLogical(b)) mismatch();
      return { kind: "binary", op, left, right, operands: "boolean", cls: "boolean" };
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=": {
      let operands: ValueClass;
      if (isNumeric(a) && isNumeric(b)) operands = numericJoin(a, b);
      else if ((a === "string" || a === "null") && (b === "string" || b === "null")) operands = "string";
      else if ((a === "boolean" || a === "null") && (b === "boolean" || b === "null")) operands = "boolean";
      else if ((a === "blob" || a === "null") && (b === "blob" || b === "null") && (op === "==" || op === "!=")) {
        operands = "blob";
      } else return mismatch();
      return { kind: "binary", op, left, right, operands, cls: "boolean" };
    }
    case "+":
      if ((a === "string" || a === "null") && (b === "string" || b === "null") && (a === "string" || b === "string")) {
        return { kind: "binary", op, left, right, operands: "string", cls: "string" };
      }
      if (!isNumeric(a) || !isNumeric(b)) mismatch();
      return { kind: "binary", op, left, right, operands: numericJoin(a, b), cls: numericJoin(a, b) };
    case "-":
    case "*":
    case "%":
      if (!isNumeric(a) || !isNumeric(b)) mismatch();
      return { kind: "binary", op, left, right, operands: numericJoin(a, b), cls: numericJoin(a, b) };
    case "/":
      if (!isNumeric(a) || !isNumeric(b)) mismatch();
      return { kind: "binary", op, left, right, operands: "double", cls: "double" };
  }
}
