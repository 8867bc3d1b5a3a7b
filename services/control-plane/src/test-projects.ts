import type { ProjectShape, WindowShape } from "./project-shape.js";

function fields(spec: string): WindowShape["schema"] {
  return {
    fields: spec.split(",").map((field) => {
      const [name = "", type = "string"] = field.split(":");
      return { name: name.replace("*", ""), type, key: name.endsWith("*") };
    }),
  };
}

function window(
  name: string,
  kind: string,
  inputs: string[],
  schema: string,
  stateKeys: WindowShape["stateKeys"] = [],
): WindowShape {
  const shape = fields(schema);
  return {
    name,
    kind,
    inputs,
    schema: shape,
    keyFields: shape.fields.filter((field) => field.key).map((field) => field.name),
    stateful: stateKeys.length > 0,
    stateKeys,
  };
}

/**
 * A trading project for tests, as the engine's model would describe it: sources `trades`
 * (id*, sym, price) and `quotes` (sym*, bid); `big` filters trades (stateless); `bySymbol`
 * aggregates trades by sym; `enriched` joins trades (left, on sym) with quotes (right, on sym).
 */
export function tradingProject(): ProjectShape {
  return {
    name: "trading",
    sources: ["quotes", "trades"],
    windows: [
      window("trades", "source", [], "id*:int64,sym:string,price:double"),
      window("quotes", "source", [], "sym*:string,bid:double"),
      window("big", "filter", ["trades"], "id*,sym,price"),
      window("bySymbol", "aggregate", ["big"], "sym*,total", [
        { role: "group-by", fields: ["sym"], sources: [[{ window: "trades", field: "sym" }]] },
      ]),
      window("enriched", "join", ["trades", "quotes"], "id*,sym,price,bid", [
        { role: "left join condition", fields: ["sym"], sources: [[{ window: "trades", field: "sym" }]] },
        { role: "right join condition", fields: ["sym"], sources: [[{ window: "quotes", field: "sym" }]] },
      ]),
    ],
  };
}

/** A stateless project: one source `events` (id*, value) and a filter. */
export function statelessProject(): ProjectShape {
  return {
    name: "plain",
    sources: ["events"],
    windows: [
      window("events", "source", [], "id*:int64,value:double"),
      window("positive", "filter", ["events"], "id*,value"),
    ],
  };
}

/** A tiny text format for tests: `{"test-project": "trading" | "plain"}`. */
export function loadTestProject(text: string): { model: ProjectShape; format: "json" } {
  const parsed = JSON.parse(text) as { "test-project"?: string };
  if (parsed["test-project"] === "trading") return { model: tradingProject(), format: "json" };
  if (parsed["test-project"] === "plain") return { model: statelessProject(), format: "json" };
  throw new Error(`unknown test project ${text}`);
}
