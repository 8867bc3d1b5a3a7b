import type { ValueClass } from "./ast.js";
import { Vec } from "./vec.js";

/** A built-in function of the expression language. */
export interface FunctionDef {
  /** Name as documented (lookup is case-insensitive). */
  readonly name: string;
  /** One-line description for the README and error messages. */
  readonly summary: string;
  /** The result class for the argument classes, or calls `fail` with what is wrong. */
  check(args: readonly ValueClass[], fail: (message: string) => never): ValueClass;
  /** Computes rows 0..n of `out` from the argument vectors, nulls included. */
  run(out: Vec, args: readonly Vec[], n: number): void;
}

const numeric = (cls: ValueClass): boolean => cls === "int" || cls === "double" || cls === "null";
const stringy = (cls: ValueClass): boolean => cls === "string" || cls === "null";

function arity(args: readonly ValueClass[], min: number, max: number, fail: (m: string) => never): void {
  if (args.length < min || args.length > max) {
    fail(
      min === max
        ? `takes ${min} argument(s), got ${args.length}`
        : `takes ${min} to ${max} arguments, got ${args.length}`,
    );
  }
}

/** Rows whose value is not a finite number become null (sqrt(-1), log(0), overflow). */
function nullNonFinite(out: Vec, n: number): void {
  const values = out.num;
  const nulls = out.nulls;
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(values[k]!)) {
      nulls[k] = 1;
      values[k] = 0;
      out.anyNull = true;
    }
  }
}

function unionAll(out: Vec, args: readonly Vec[], n: number): void {
  out.clearNulls(n);
  for (const arg of args) {
    if (!arg.anyNull) continue;
    for (let k = 0; k < n; k++) if (arg.nulls[k] === 1) out.nulls[k] = 1;
    out.anyNull = true;
  }
}

function math1(name: string, summary: string, f: (x: number) => number, keepInt: boolean): FunctionDef {
  return {
    name,
    summary,
    check(args, fail) {
      arity(args, 1, 1, fail);
      if (!numeric(args[0]!)) fail(`needs a number, not a ${args[0]}`);
      return keepInt && args[0] === "int" ? "int" : "double";
    },
    run(out, args, n) {
      const a = args[0]!;
      const x = a.num;
      const o = out.num;
      for (let k = 0; k < n; k++) o[k] = f(x[k]!);
      out.unionNulls(n, a);
      nullNonFinite(out, n);
    },
  };
}

function roundHalfAway(x: number, digits: number): number {
  const factor = 10 ** digits;
  return (Math.sign(x) * Math.round(Math.abs(x) * factor)) / factor;
}

function minMax(name: "min" | "max"): FunctionDef {
  const pick = name === "min" ? Math.min : Math.max;
  return {
    name,
    summary: `the ${name === "min" ? "smallest" : "largest"} of two or more numbers`,
    check(args, fail) {
      if (args.length < 2) fail(`takes at least 2 arguments, got ${args.length}`);
      let cls: ValueClass = "int";
      for (const arg of args) {
        if (!numeric(arg)) fail(`needs numbers, not a ${arg}`);
        if (arg !== "int") cls = "double";
      }
      return cls;
    },
    run(out, args, n) {
      const o = out.num;
      o.set(args[0]!.num.subarray(0, n));
      for (let i = 1; i < args.length; i++) {
        const x = args[i]!.num;
        for (let k = 0; k < n; k++) o[k] = pick(o[k]!, x[k]!);
      }
      unionAll(out, args, n);
    },
  };
}

function string1(name: string, summary: string, f: (s: string) => string): FunctionDef {
  return {
    name,
    summary,
    check(args, fail) {
      arity(args, 1, 1, fail);
      if (!stringy(args[0]!)) fail(`needs a string, not a ${args[0]}`);
      return "string";
    },
    run(out, args, n) {
      const a = args[0]!;
      for (let k = 0; k < n; k++) out.str[k] = f(a.str[k]!);
      out.unionNulls(n, a);
    },
  };
}

function toText(vec: Vec, k: number): string {
  switch (vec.cls) {
    case "string":
      return vec.str[k]!;
    case "boolean":
      return vec.num[k] === 1 ? "true" : "false";
    case "blob":
      return Buffer.from(vec.bytes[k]!).toString("base64");
    default:
      return String(vec.num[k]);
  }
}

const FUNCTIONS: readonly FunctionDef[] = [
  math1("abs", "absolute value", Math.abs, true),
  math1("ceil", "smallest integer >= x", Math.ceil, true),
  math1("floor", "largest integer <= x", Math.floor, true),
  math1("sqrt", "square root (null for negative x)", Math.sqrt, false),
  math1("exp", "e to the power x", Math.exp, false),
  {
    name: "log",
    summary: "natural logarithm, or log(x, base); null for x <= 0",
    check(args, fail) {
      arity(args, 1, 2, fail);
      if (!args.every(numeric)) fail("needs numbers");
      return "double";
    },
    run(out, args, n) {
      const x = args[0]!.num;
      const base = args[1];
      for (let k = 0; k < n; k++) {
        const v = x[k]! > 0 ? Math.log(x[k]!) : Number.NaN;
        out.num[k] = base === undefined ? v : v / Math.log(base.num[k]!);
      }
      unionAll(out, args, n);
      nullNonFinite(out, n);
    },
  },
  {
    name: "round",
    summary: "round(x) or round(x, digits), halves away from zero",
    check(args, fail) {
      arity(args, 1, 2, fail);
      if (!args.every(numeric)) fail("needs numbers");
      return args.length === 1 && args[0] === "int" ? "int" : args.length === 1 ? "double" : "double";
    },
    run(out, args, n) {
      const x = args[0]!.num;
      const digits = args[1]?.num;
      for (let k = 0; k < n; k++) out.num[k] = roundHalfAway(x[k]!, digits === undefined ? 0 : Math.trunc(digits[k]!));
      unionAll(out, args, n);
      nullNonFinite(out, n);
    },
  },
  {
    name: "pow",
    summary: "x to the power y",
    check(args, fail) {
      arity(args, 2, 2, fail);
      if (!args.every(numeric)) fail("needs numbers");
      return "double";
    },
    run(out, args, n) {
      const x = args[0]!.num;
      const y = args[1]!.num;
      for (let k = 0; k < n; k++) out.num[k] = x[k]! ** y[k]!;
      unionAll(out, args, n);
      nullNonFinite(out, n);
    },
  },
  minMax("min"),
  minMax("max"),
  string1("upper", "upper-case", (s) => s.toUpperCase()),
  string1("lower", "lower-case", (s) => s.toLowerCase()),
  string1("trim", "without leading and trailing whitespace", (s) => s.trim()),
  {
    name: "length",
    summary: "number of characters of a string",
    check(args, fail) {
      arity(args, 1, 1, fail);
      if (!stringy(args[0]!)) fail(`needs a string, not a ${args[0]}`);
      return "int";
    },
    run(out, args, n) {
      const a = args[0]!;
      for (let k = 0; k < n; k++) out.num[k] = a.str[k]!.length;
      out.unionNulls(n, a);
    },
  },
  {
    name: "substr",
    summary: "substr(s, start[, length]): characters from 1-based start",
    check(args, fail) {
      arity(args, 2, 3, fail);
      if (!stringy(args[0]!)) fail(`needs a string first, not a ${args[0]}`);
      if (!args.slice(1).every(numeric)) fail("start and length must be numbers");
      return "string";
    },
    run(out, args, n) {
      const s = args[0]!.str;
      const start = args[1]!.num;
      const length = args[2]?.num;
      for (let k = 0; k < n; k++) {
        const from = Math.max(0, Math.trunc(start[k]!) - 1);
        const text = s[k]!;
        out.str[k] =
          length === undefined ? text.slice(from) : text.slice(from, from + Math.max(0, Math.trunc(length[k]!)));
      }
      unionAll(out, args, n);
    },
  },
  {
    name: "concat",
    summary: "concatenation of two or more values as text",
    check(args, fail) {
      if (args.length < 1) fail("takes at least 1 argument");
      return "string";
    },
    run(out, args, n) {
      for (let k = 0; k < n; k++) {
        let text = "";
        for (const arg of args) text += toText(arg, k);
        out.str[k] = text;
      }
      unionAll(out, args, n);
    },
  },
  {
    name: "tostring",
    summary: "a value as text",
    check(args, fail) {
      arity(args, 1, 1, fail);
      return "string";
    },
    run(out, args, n) {
      const a = args[0]!;
      for (let k = 0; k < n; k++) out.str[k] = toText(a, k);
      out.unionNulls(n, a);
    },
  },
  {
    name: "contains",
    summary: "contains(s, part): whether s contains part",
    check(args, fail) {
      arity(args, 2, 2, fail);
      if (!args.every(stringy)) fail("needs strings");
      return "boolean";
    },
    run(out, args, n) {
      const a = args[0]!;
      const b = args[1]!;
      for (let k = 0; k < n; k++) out.num[k] = a.str[k]!.includes(b.str[k]!) ? 1 : 0;
      unionAll(out, args, n);
    },
  },
  {
    name: "isnull",
    summary: "whether a value is null",
    check(args, fail) {
      arity(args, 1, 1, fail);
      return "boolean";
    },
    run(out, args, n) {
      const a = args[0]!;
      if (a.anyNull) for (let k = 0; k < n; k++) out.num[k] = a.nulls[k]!;
      else out.num.fill(0, 0, n);
      out.clearNulls(n);
    },
  },
  {
    name: "ifelse",
    summary: "ifelse(condition, a, b): a when condition is true, else b (a null condition is false)",
    check(args, fail) {
      arity(args, 3, 3, fail);
      const [c, a, b] = args as [ValueClass, ValueClass, ValueClass];
      if (!(c === "boolean" || numeric(c))) fail(`the condition must be a boolean, not a ${c}`);
      if (numeric(a) && numeric(b)) return a === "null" && b === "null" ? "null" : numericJoin2(a, b);
      if (a === b || b === "null") return a;
      if (a === "null") return b;
      return fail(`both branches must have the same type, not ${a} and ${b}`);
    },
    run(out, args, n) {
      const c = args[0]!;
      const a = args[1]!;
      const b = args[2]!;
      out.clearNulls(n);
      for (let k = 0; k < n; k++) {
        const pick = c.num[k] !== 0 && !(c.anyNull && c.nulls[k] === 1) ? a : b;
        if (pick.anyNull && pick.nulls[k] === 1) {
          out.nulls[k] = 1;
          out.anyNull = true;
          continue;
        }
        if (out.cls === "string") out.str[k] = pick.cls === "string" ? pick.str[k]! : "";
        else if (out.cls === "blob") out.bytes[k] = pick.bytes[k]!;
        else out.num[k] = pick.num[k]!;
      }
    },
  },
];

function numericJoin2(a: ValueClass, b: ValueClass): ValueClass {
  if (a === "null") return b;
  if (b === "null") return a;
  return a === "int" && b === "int" ? "int" : "double";
}

const byName = new Map(FUNCTIONS.map((fn) => [fn.name.toLowerCase(), fn]));

/** The built-in function of a name (case-insensitive), or undefined. */
export function lookupFunction(name: string): FunctionDef | undefined {
  return byName.get(name.toLowerCase());
}

/** Every built-in function, for documentation. */
export function listFunctions(): readonly FunctionDef[] {
  return FUNCTIONS;
}

/** Allocates a result vector for a function (exported for the compiler). */
export function functionVec(cls: ValueClass): Vec {
  return new Vec(cls);
}
