/**
 * The expression parser: a hand-written Pratt parser over the tokens of `tokenizer.ts`.
 *
 * Why hand-written: the ESP expression grammar (SQL-like `and`/`or`/`not`, `=` and `<>` beside
 * `==` and `!=`, single- or double-quoted strings, dotted identifiers, calls to ESP functions) is
 * small and matches no general-purpose expression library without plugins that would still let
 * JavaScript semantics leak in; a 150-line parser gives exact positions for every error and an AST
 * we type-check and compile ourselves. No text ever reaches `eval` or `new Function`.
 */
import { loadError } from "../errors.js";
import type { BinaryOp, ExprNode } from "./ast.js";
import { type ExprOrigin, type Token, tokenize } from "./tokenizer.js";

/** Binding power of each binary operator (higher binds tighter). */
const BINARY: ReadonlyMap<string, { op: BinaryOp; power: number }> = new Map([
  ["or", { op: "or", power: 1 }],
  ["||", { op: "or", power: 1 }],
  ["and", { op: "and", power: 2 }],
  ["&&", { op: "and", power: 2 }],
  ["==", { op: "==", power: 4 }],
  ["=", { op: "==", power: 4 }],
  ["!=", { op: "!=", power: 4 }],
  ["<>", { op: "!=", power: 4 }],
  ["<", { op: "<", power: 4 }],
  ["<=", { op: "<=", power: 4 }],
  [">", { op: ">", power: 4 }],
  [">=", { op: ">=", power: 4 }],
  ["+", { op: "+", power: 5 }],
  ["-", { op: "-", power: 5 }],
  ["*", { op: "*", power: 6 }],
  ["/", { op: "/", power: 6 }],
  ["%", { op: "%", power: 6 }],
]);

const NOT_POWER = 3;
const NEGATE_POWER = 7;

class Parser {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly origin: ExprOrigin,
  ) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index++;
    return token;
  }

  private fail(token: Token, message: string): never {
    throw loadError(message, { ...token.pos, window: this.origin.window });
  }

  parseAll(): ExprNode {
    if (this.peek().kind === "end") this.fail(this.peek(), "empty expression");
    const node = this.parse(0);
    const rest = this.peek();
    if (rest.kind !== "end") this.fail(rest, `unexpected "${rest.text}" after the end of the expression`);
    return node;
  }

  private binaryOf(token: Token): { op: BinaryOp; power: number } | undefined {
    if (token.kind === "op") return BINARY.get(token.text);
    if (token.kind === "ident") {
      const word = token.text.toLowerCase();
      if (word === "and" || word === "or") return BINARY.get(word);
    }
    return undefined;
  }

  private parse(minPower: number): ExprNode {
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      const binary = this.binaryOf(token);
      if (binary === undefined || binary.power <= minPower) break;
      this.next();
      // Left-associative; comparisons do not chain: `a < b < c` is an error, not `(a < b) < c`.
      const right = this.parse(binary.power);
      if (binary.power === 4 && this.binaryOf(this.peek())?.power === 4) {
        this.fail(this.peek(), `comparisons cannot be chained; use "and"`);
      }
      left = { kind: "binary", op: binary.op, left, right, pos: left.pos };
    }
    return left;
  }

  private prefix(): ExprNode {
    const token = this.next();
    switch (token.kind) {
      case "number": {
        const value = Number(token.text);
        if (!Number.isFinite(value)) this.fail(token, `number ${token.text} is out of range`);
        return { kind: "literal", value, pos: token.pos };
      }
      case "string":
        return { kind: "literal", value: token.text, pos: token.pos };
      case "lparen": {
        const inner = this.parse(0);
        const close = this.next();
        if (close.kind !== "rparen") this.fail(close, `expected ")" but found ${describe(close)}`);
        return inner;
      }
      case "op":
        if (token.text === "-") return { kind: "unary", op: "-", arg: this.parse(NEGATE_POWER - 1), pos: token.pos };
        if (token.text === "+") return this.parse(NEGATE_POWER - 1);
        if (token.text === "!") return { kind: "unary", op: "not", arg: this.parse(NOT_POWER), pos: token.pos };
        return this.fail(token, `expected a value but found "${token.text}"`);
      case "ident":
        return this.identifier(token);
      default:
        return this.fail(token, `expected a value but found ${describe(token)}`);
    }
  }

  private identifier(token: Token): ExprNode {
    const word = token.text.toLowerCase();
    if (word === "true" || word === "false") return { kind: "literal", value: word === "true", pos: token.pos };
    if (word === "null") return { kind: "literal", value: null, pos: token.pos };
    if (word === "not") return { kind: "unary", op: "not", arg: this.parse(NOT_POWER), pos: token.pos };
    if (word === "and" || word === "or") this.fail(token, `expected a value but found "${token.text}"`);
    if (this.peek().kind !== "lparen") return { kind: "field", name: token.text, pos: token.pos };
    this.next();
    const args: ExprNode[] = [];
    if (this.peek().kind === "rparen") {
      this.next();
    } else {
      for (;;) {
        args.push(this.parse(0));
        const separator = this.next();
        if (separator.kind === "rparen") break;
        if (separator.kind !== "comma") this.fail(separator, `expected "," or ")" but found ${describe(separator)}`);
      }
    }
    return { kind: "call", name: token.text, args, pos: token.pos };
  }
}

function describe(token: Token): string {
  return token.kind === "end" ? "the end of the expression" : `"${token.text}"`;
}

/**
 * Parses expression text into an AST. Positions in the AST and in errors are positions in the
 * project file, computed from `origin`.
 * @throws MeshError INVALID_ARGUMENT `line L:C: ...` on a syntax error.
 */
export function parseExpression(text: string, origin: ExprOrigin = { line: 1, column: 1 }): ExprNode {
  return new Parser(tokenize(text, origin), origin).parseAll();
}
