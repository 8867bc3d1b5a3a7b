import { parseSchemaString, rowsToBatch } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { checkExpression } from "../../expr/check.js";
import { compileAst } from "../../expr/compile.js";
import { parseExpression } from "../../expr/parser.js";
import { schemaScope } from "../common.js";
import { compileScalar, type ScalarEnv } from "./scalar-eval.js";

const schema = parseSchemaString("id*:int64,n:int32,x:double,s:string,b:boolean");
const rows = [
  { id: 1, n: 3, x: 2.5, s: "abc", b: true },
  { id: 2, n: 0, x: -1, s: "", b: false },
  { id: 3, n: null, x: null, s: null, b: null },
  { id: 4, n: -7, x: 0, s: "zz", b: true },
];
const batch = rowsToBatch(schema, rows);
const EXPRESSIONS = [
  "x > 1",
  "n >= 0 and x < 3",
  "n = 0 or s == 'zz'",
  "not (x > 1)",
  "x / n",
  "n % 2",
  "-x + n * 2",
  "s + '!'",
  "s < 'b'",
  "b",
  "x != 2.5",
  "abs(n) + round(x)",
  "isnull(x)",
  "ifelse(n > 0, 'pos', 'neg')",
  "length(s) > 1",
  "substr(s, 1, 2) == 'bc'",
];

describe("scalar pattern expressions", () => {
  for (const text of EXPRESSIONS) {
    it(`gives the column kernel's result for ${text}`, () => {
      const scope = schemaScope(schema);
      const kernel = compileAst(parseExpression(text), scope, text).evaluate(batch, null, batch.length);
      const scalar = compileScalar(checkExpression(parseExpression(text), scope), { varBase: 1000, from: "row" });
      const env: ScalarEnv = { columns: batch.columns, row: 0, fields: [], vars: [] };
      for (let row = 0; row < batch.length; row++) {
        env.row = row;
        let expected = kernel.valueAt(row);
        if (typeof expected === "boolean") expected = expected ? 1 : 0;
        expect([row, scalar(env)]).toEqual([row, expected]);
      }
    });
  }

  it("reads variables above the variable base and treats unbound ones as null", () => {
    const scope = {
      resolve: (name: string) =>
        name === "p0" ? { index: 1000, type: "double" as const } : schemaScope(schema).resolve(name),
      names: () => ["p0"],
    };
    const scalar = compileScalar(checkExpression(parseExpression("x > p0"), scope), { varBase: 1000, from: "row" });
    expect(scalar({ columns: batch.columns, row: 0, fields: [], vars: [2] })).toBe(1);
    expect(scalar({ columns: batch.columns, row: 0, fields: [], vars: [3] })).toBe(0);
    expect(scalar({ columns: batch.columns, row: 0, fields: [], vars: [undefined] })).toBe(0);
  });
});
