import type { SourcePosition } from "../errors.js";

/** Binary operators of the expression language, normalised (`=` is `==`, `<>` is `!=`, `&&` is `and`). */
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

/** Unary operators. */
export type UnaryOp = "-" | "not";

/** A node of a parsed expression; `pos` is where it starts in the project file. */
export type ExprNode =
  | { readonly kind: "literal"; readonly value: number | string | boolean | null; readonly pos: SourcePosition }
  | { readonly kind: "field"; readonly name: string; readonly pos: SourcePosition }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly arg: ExprNode; readonly pos: SourcePosition }
  | {
      readonly kind: "binary";
      readonly op: BinaryOp;
      readonly left: ExprNode;
      readonly right: ExprNode;
      readonly pos: SourcePosition;
    }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly ExprNode[]; readonly pos: SourcePosition };

/**
 * The value classes expressions compute in: every numeric ESP type is `int` or `double` at run
 * time (both held as JS numbers), `null` is the type of the literal `null`.
 */
export type ValueClass = "int" | "double" | "string" | "boolean" | "blob" | "null";

/** Writes an expression back as text (normalised operators, minimal parentheses not attempted). */
export function exprToString(node: ExprNode): string {
  switch (node.kind) {
    case "literal":
      if (node.value === null) return "null";
      if (typeof node.value === "string") return `'${node.value.replaceAll("'", "''")}'`;
      return String(node.value);
    case "field":
      return node.name;
    case "unary":
      return node.op === "not" ? `not (${exprToString(node.arg)})` : `-(${exprToString(node.arg)})`;
    case "binary":
      return `(${exprToString(node.left)} ${node.op} ${exprToString(node.right)})`;
    case "call":
      return `${node.name}(${node.args.map(exprToString).join(", ")})`;
  }
}
