import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { schemaToString } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadProject, sniffFormat } from "./load-project.js";
import type { ProjectModel } from "./project-model.js";
import { projectToYaml } from "./project-to-yaml.js";

const casesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-cases");
const trades = (parse(readFileSync(join(casesDir, "trades.yaml"), "utf8")) as { project: string }[])[0]!.project;

/** Field expressions by field name (XML gives them by position, YAML by name). */
function boundFields(w: ProjectModel["windows"][number]): Record<string, string> | undefined {
  const fields = w.spec.fields as { field?: string; expr: { text: string } }[] | undefined;
  if (fields === undefined) return undefined;
  const names = w.schema.fields.filter((f) => !f.key).map((f) => f.name);
  return Object.fromEntries(fields.map((entry, i) => [entry.field ?? names[i], entry.expr.text.trim()]));
}

function summary(model: ProjectModel) {
  return model.windows.map((w) => ({
    fields: boundFields(w),
    name: w.name,
    kind: w.kind,
    query: w.query,
    inputs: w.inputs,
    schema: schemaToString(w.schema),
    index: w.index,
    insertOnly: w.insertOnly,
    stateful: w.stateful,
    spec: JSON.parse(
      JSON.stringify(w.spec, (key, value) =>
        key === "line" || key === "column" || key === "fields" ? undefined : key === "text" ? value.trim() : value,
      ),
    ),
  }));
}

describe("loadProject", () => {
  it("sniffs XML, JSON and YAML", () => {
    expect(sniffFormat("  <project/>")).toBe("xml");
    expect(sniffFormat('{"name": "p"}')).toBe("json");
    expect(sniffFormat("name: p")).toBe("yaml");
  });

  it("round-trips an ESP XML project through YAML to an equivalent model", () => {
    const fromXml = loadProject(trades);
    const yaml = projectToYaml(fromXml);
    const fromYaml = loadProject(yaml);
    expect(summary(fromYaml)).toEqual(summary(fromXml));
    expect(fromYaml.name).toBe("trades_proj");
    expect(fromYaml.description).toBe("Large trades by security.");
  });

  it("accepts the same project as JSON", () => {
    const json = JSON.stringify({
      name: "p",
      windows: [
        { name: "src", kind: "source", schema: "id*:int64,x:double" },
        { name: "f", kind: "filter", inputs: ["src"], expression: "x > 1" },
      ],
    });
    const model = loadProject(json);
    expect(model.windows.map((w) => w.name)).toEqual(["src", "f"]);
  });

  it("exposes schemas, keys, wiring, state and lineage for the control plane", () => {
    const model = loadProject(trades);
    const join = model.window("AddTraderName")!;
    expect(join.inputs).toEqual(["LargeTrades", "Traders"]);
    expect(join.keyFields).toEqual(["tradeID"]);
    expect(join.stateful).toBe(true);
    expect(join.stateKeys).toEqual([
      { role: "left join condition", fields: ["traderID"], sources: [[{ window: "Trades", field: "traderID" }]] },
      { role: "right join condition", fields: ["ID"], sources: [[{ window: "Traders", field: "ID" }]] },
    ]);
    const agg = model.window("BySecurity")!;
    expect(agg.stateKeys).toEqual([
      { role: "group-by", fields: ["security"], sources: [[{ window: "Trades", field: "security" }]] },
    ]);
    expect(model.window("LargeTrades")!.stateful).toBe(false);
    expect(model.window("Trades")!.outputs).toEqual(["LargeTrades"]);
    expect(model.sources).toEqual(["Trades", "Traders"]);
    const cost = model.window("TotalCost")!;
    expect(cost.lineage[cost.schema.indexOf("totalCost")]).toEqual([]);
    expect(cost.lineage[cost.schema.indexOf("name")]).toEqual([{ window: "Traders", field: "name" }]);
  });

  it("names the element and line of anything unsupported", () => {
    const xml = `<project name="p">\n<contqueries>\n<contquery name="cq">\n<windows>\n<window-source name="s" colour="red"><schema-string>id*:int64</schema-string></window-source>\n</windows>\n</contquery>\n</contqueries>\n</project>`;
    expect(() => loadProject(xml)).toThrow(/line 5:1.*unsupported attribute colour on <window-source>/);
  });

  it("reports YAML problems with their path and line", () => {
    expect(() => loadProject("name: p\nwindows:\n  - name: s\n    kind: sauce\n")).toThrow(
      /line 4:11.*windows\[0\]\.kind.*unknown window kind "sauce"/,
    );
    expect(() =>
      loadProject("name: p\nwindows:\n  - { name: s, kind: source, schema: 'id*:int64', colour: red }\n"),
    ).toThrow(/line 3:.*windows\[0\]\.colour.*unknown key "colour"/);
  });

  it("rejects duplicate window names across queries", () => {
    const yaml = `name: p\nqueries:\n  - name: a\n    windows: [{ name: s, kind: source, schema: "id*:int64" }]\n  - name: b\n    windows: [{ name: s, kind: source, schema: "id*:int64" }]\n`;
    expect(() => loadProject(yaml)).toThrow(/window name "s" is used twice/);
  });
});
