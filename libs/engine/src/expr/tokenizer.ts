import type { SourcePosition } from "../errors.js";
import { loadError } from "../errors.js";

/** Kinds of tokens of the expression language. */
export type TokenKind = "number" | "string" | "ident" | "op" | "lparen" | "rparen" | "comma" | "end";

/** One token with its position in the project file. */
export interface Token {
  readonly kind: TokenKind;
  /** The operator or identifier text, the string value (unquoted), or the number text. */
  readonly text: string;
  readonly pos: SourcePosition;
}

/** Where an expression's text starts in the project file, so positions can be reported there. */
export interface ExprOrigin {
  /** Line of the first character of the text. @default 1 */
  readonly line: number;
  /** Column of the first character of the text. @default 1 */
  readonly column: number;
  /** The window the expression belongs to, for error messages. */
  readonly window?: string | undefined;
}

const OPERATORS = ["==", "!=", "<>", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "<", ">", "=", "!"];

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9") || c === ".";
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Splits expression text into tokens. Numbers (`12`, `1.5`, `2e-3`), strings in single or double
 * quotes (a doubled quote or a backslash escapes the quote), identifiers (letters, digits, `_`,
 * `.`), operators and punctuation. Positions are translated to the project file via `origin`.
 * @throws MeshError INVALID_ARGUMENT at the offending character.
 */
export function tokenize(text: string, origin: ExprOrigin = { line: 1, column: 1 }): Token[] {
  const tokens: Token[] = [];
  let line = origin.line;
  let column = origin.column;
  let i = 0;
  const here = (): SourcePosition => ({ line, column });
  const advance = (count: number): void => {
    for (let k = 0; k < count; k++) {
      if (text[i] === "\n") {
        line++;
        column = 1;
      } else {
        column++;
      }
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      advance(1);
      continue;
    }
    const pos = here();
    if (isDigit(c) || (c === "." && isDigit(text[i + 1]))) {
      let j = i;
      while (isDigit(text[j])) j++;
      if (text[j] === "." && isDigit(text[j + 1])) {
        j++;
        while (isDigit(text[j])) j++;
      }
      if (text[j] === "e" || text[j] === "E") {
        let k = j + 1;
        if (text[k] === "+" || text[k] === "-") k++;
        if (isDigit(text[k])) {
          while (isDigit(text[k])) k++;
          j = k;
        }
      }
      if (text[j] !== undefined && isIdentStart(text[j] as string)) {
        throw loadError(`invalid number "${text.slice(i, j + 1)}"`, { ...pos, window: origin.window });
      }
      tokens.push({ kind: "number", text: text.slice(i, j), pos });
      advance(j - i);
      continue;
    }
    if (c === "'" || c === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        const d = text[j];
        if (d === undefined) throw loadError("unterminated string", { ...pos, window: origin.window });
        if (d === "\\" && j + 1 < text.length) {
          const e = text[j + 1] as string;
          value += e === "n" ? "\n" : e === "t" ? "\t" : e;
          j += 2;
          continue;
        }
        if (d === c) {
          if (text[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: "string", text: value, pos });
      advance(j - i);
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentPart(text[j] as string)) j++;
      tokens.push({ kind: "ident", text: text.slice(i, j), pos });
      advance(j - i);
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c === "(" ? "lparen" : c === ")" ? "rparen" : "comma", text: c, pos });
      advance(1);
      continue;
    }
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, i));
    if (op === undefined) throw loadError(`unexpected character "${c}"`, { ...pos, window: origin.window });
    tokens.push({ kind: "op", text: op, pos });
    advance(op.length);
  }
  tokens.push({ kind: "end", text: "", pos: here() });
  return tokens;
}
