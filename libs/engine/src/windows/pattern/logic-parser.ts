import { loadError, type SourcePosition } from "../../errors.js";
import type { ExprText } from "../../model/project-model.js";
import { formatDuration, parseDuration } from "../common.js";

/** The operators of pattern logic. */
export type LogicOperator = "fby" | "and" | "or" | "not";

/** A node of parsed pattern logic: an event name, or an operator over child nodes. */
export type LogicNode =
  | { readonly kind: "event"; readonly name: string; readonly pos: SourcePosition }
  | {
      readonly kind: "operator";
      readonly op: LogicOperator;
      /** The time bound in microseconds, when written (`fby{200 milliseconds}`). */
      readonly bound: number | undefined;
      readonly children: readonly LogicNode[];
      readonly pos: SourcePosition;
    };

const OPERATORS: readonly LogicOperator[] = ["fby", "and", "or", "not"];

/**
 * Parses pattern logic: `fby{200 milliseconds}(e1, and(e2, not(e3)), e4)`. Operators are `fby`,
 * `and`, `or` (two or more operands) and `not` (one event); any operator but `not` may carry a
 * time bound in braces (microseconds, milliseconds, seconds, minutes, hours, days).
 * @throws MeshError INVALID_ARGUMENT at the line:column of the problem.
 */
export function parseLogic(logic: ExprText, window: string): LogicNode {
  const text = logic.text;
  let i = 0;
  let line = logic.line;
  let column = logic.column;
  const here = (): SourcePosition => ({ line, column });
  const fail = (message: string, pos: SourcePosition = here()): never => {
    throw loadError(`pattern logic: ${message}`, { ...pos, window });
  };
  const step = (count = 1): void => {
    for (let k = 0; k < count && i < text.length; k++) {
      if (text[i] === "\n") {
        line++;
        column = 1;
      } else column++;
      i++;
    }
  };
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) step();
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[i] !== char) fail(`expected "${char}" but found ${i < text.length ? `"${text[i]}"` : "the end"}`);
    step();
  };
  const identifier = (): string => {
    skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (match === null)
      fail(`expected an event name or an operator but found ${i < text.length ? `"${text[i]}"` : "the end"}`);
    step(match![0].length);
    return match![0];
  };
  const node = (): LogicNode => {
    skipSpace();
    const pos = here();
    const name = identifier();
    skipSpace();
    const lower = name.toLowerCase();
    const isOperator = (OPERATORS as readonly string[]).includes(lower) && (text[i] === "(" || text[i] === "{");
    if (!isOperator) return { kind: "event", name, pos };
    const op = lower as LogicOperator;
    let bound: number | undefined;
    if (text[i] === "{") {
      const boundPos = here();
      step();
      const close = text.indexOf("}", i);
      if (close < 0) fail(`"{" of ${op} has no closing "}"`, boundPos);
      const amount = text.slice(i, close);
      bound = parseDuration(amount);
      if (bound === undefined)
        fail(`time bound "${amount.trim()}" is not a duration (like "200 milliseconds")`, boundPos);
      if (op === "not") fail("not takes no time bound; bound the operator around it", boundPos);
      step(close - i + 1);
    }
    expect("(");
    const children: LogicNode[] = [node()];
    for (;;) {
      skipSpace();
      if (text[i] === ",") {
        step();
        children.push(node());
        continue;
      }
      expect(")");
      break;
    }
    if (op === "not" && children.length !== 1) fail("not takes exactly one event", pos);
    if (op !== "not" && children.length < 2) fail(`${op} needs at least two operands`, pos);
    return { kind: "operator", op, bound, children, pos };
  };
  const root = node();
  skipSpace();
  if (i < text.length) fail(`unexpected "${text[i]}" after the end of the logic`);
  return root;
}

/** Writes logic back as text (the inverse of {@link parseLogic}). */
export function logicToString(node: LogicNode): string {
  if (node.kind === "event") return node.name;
  const bound = node.bound === undefined ? "" : `{${formatDuration(node.bound)}}`;
  return `${node.op}${bound}(${node.children.map(logicToString).join(", ")})`;
}
