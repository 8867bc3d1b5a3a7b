import { describe, expect, it } from "vitest";
import { exprToString } from "./ast.js";
import { parseExpression } from "./parser.js";

const text = (source: string) => exprToString(parseExpression(source));

describe("parseExpression", () => {
  it("binds * tighter than +, comparisons tighter than and, and tighter than or", () => {
    expect(text("a + b * 2 > 3 or c = 1 and not d")).toBe("(((a + (b * 2)) > 3) or ((c == 1) and not (d)))");
  });

  it("normalises the operator spellings", () => {
    expect(text("a <> 1 && b || !c")).toBe("(((a != 1) and b) or not (c))");
  });

  it("parses calls, literals and unary minus", () => {
    expect(text("max(-x, 1.5e2, 'it''s', \"q\", null, TRUE)")).toBe("max(-(x), 150, 'it''s', 'q', null, true)");
  });

  it("reports the position of a syntax error in the project file", () => {
    expect(() => parseExpression("a +\n  * b", { line: 10, column: 5 })).toThrow(
      /line 11:3: expected a value but found "\*"/,
    );
    expect(() => parseExpression("f(a b)", { line: 1, column: 1 })).toThrow(/line 1:5: expected "," or "\)"/);
    expect(() => parseExpression("'open", { line: 2, column: 7 })).toThrow(/line 2:7: unterminated string/);
    expect(() => parseExpression("a < b < c")).toThrow(/comparisons cannot be chained/);
  });
});
