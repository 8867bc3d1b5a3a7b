import { describe, expect, it } from "vitest";
import { logicToString, parseLogic } from "./logic-parser.js";

const at = (text: string) => ({ text, line: 3, column: 10 });

describe("pattern logic parser", () => {
  it("reads nested operators with time bounds in every unit", () => {
    const node = parseLogic(at("fby{200 milliseconds}(e1, and{2 seconds}(e2, not(e3)), or(e4, e5))"), "w");
    expect(logicToString(node)).toBe("fby{200 milliseconds}(e1, and{2 seconds}(e2, not(e3)), or(e4, e5))");
    for (const [unit, micros] of [
      ["microseconds", 5],
      ["milliseconds", 5e3],
      ["seconds", 5e6],
      ["minutes", 300e6],
      ["hours", 18_000e6],
    ] as const) {
      const parsed = parseLogic(at(`FBY{5 ${unit}}(a, b)`), "w");
      expect(parsed.kind === "operator" && parsed.bound).toBe(micros);
    }
  });

  it("accepts a single event as the whole logic", () => {
    expect(parseLogic(at("  e1 "), "w")).toMatchObject({ kind: "event", name: "e1" });
  });

  it("reports errors at their line and column in the project file", () => {
    expect(() => parseLogic(at("fby(e1 e2)"), "w")).toThrow(/line 3:17.*expected "\)"/);
    expect(() => parseLogic(at("fby{2 fortnights}(e1, e2)"), "w")).toThrow(/line 3:13.*not a duration/);
    expect(() => parseLogic(at("not(e1, e2)"), "w")).toThrow(/not takes exactly one event/);
    expect(() => parseLogic(at("and(e1)"), "w")).toThrow(/and needs at least two operands/);
    expect(() => parseLogic(at("fby(e1, e2) e3"), "w")).toThrow(/unexpected "e"/);
    expect(() => parseLogic(at("not{1 second}(e1)"), "w")).toThrow(/not takes no time bound/);
  });
});
