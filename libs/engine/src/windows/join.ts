import { isFieldType } from "@espmesh/events";
import type { XmlView } from "../model/xml-view.js";
import type { YamlView } from "../model/yaml-view.js";
import { exprToYaml, windowError } from "./common.js";
import { JoinOperator } from "./join-operator.js";
import { JOIN_TYPES, type JoinOutputSpec, type JoinSpec, planJoin } from "./join-plan.js";
import type { WindowKind } from "./window-kind.js";

function joinType(value: string, fail: (message: string) => never): JoinSpec["type"] {
  if (!(JOIN_TYPES as readonly string[]).includes(value))
    fail(`unknown join type "${value}" (expected ${JOIN_TYPES.join(", ")})`);
  return value as JoinSpec["type"];
}

function readXmlJoin(view: XmlView): JoinSpec {
  const join = view.requireChild("join");
  const type = joinType(join.requireAttr("type"), (m) => {
    throw join.error(m);
  });
  const noRegenerates = join.boolAttr("no-regenerates", false);
  join.ignoreAttributes("left-index", "right-index", "use-secondary");
  const conditionsElement = join.requireChild("conditions");
  join.finish();
  const conditions = conditionsElement.children("fields").map((fields) => {
    const condition = { left: fields.requireAttr("left"), right: fields.requireAttr("right") };
    fields.finish();
    return condition;
  });
  conditionsElement.finish();
  const outputElement = view.requireChild("output");
  const output: JoinOutputSpec[] = [];
  for (const child of outputElement.element.children) {
    if (child.name !== "field-selection" && child.name !== "field-expr") continue;
    const [element] = outputElement.children(child.name).filter((candidate) => candidate.element === child);
    const name = element!.requireAttr("name");
    if (child.name === "field-selection") {
      output.push({ name, source: element!.requireAttr("source") });
    } else {
      const type = element!.requireAttr("type").trim().toLowerCase();
      if (!isFieldType(type)) throw element!.error(`field-expr "${name}" has unknown type "${type}"`);
      output.push({ name, type, expr: element!.expr });
    }
    element!.finish();
  }
  outputElement.finish();
  return { type, noRegenerates, conditions, output };
}

function readYamlJoin(node: YamlView): JoinSpec {
  const join = node.require("join");
  const typeNode = join.require("type");
  const type = joinType(typeNode.string(), (m) => {
    throw typeNode.error(m);
  });
  const noRegenerates = join.optBoolean("noRegenerates", false);
  const conditions = join
    .require("conditions")
    .items()
    .map((item) => {
      const condition = { left: item.require("left").string(), right: item.require("right").string() };
      item.finish();
      return condition;
    });
  join.finish();
  const output = node
    .require("output")
    .items()
    .map((item): JoinOutputSpec => {
      const name = item.require("name").string();
      const source = item.get("source");
      if (source !== undefined) {
        item.finish();
        return { name, source: source.string() };
      }
      const typeNode = item.require("type");
      const type = typeNode.string().toLowerCase();
      if (!isFieldType(type)) throw typeNode.error(`unknown type "${type}"`);
      const expr = item.require("expr").expr();
      item.finish();
      return { name, type, expr };
    });
  return { type, noRegenerates, conditions, output };
}

/**
 * The join window: pairs the rows of its left and right inputs (in edge order, or by edge
 * `role`) whose condition fields are equal. inner, leftouter, rightouter, fullouter; updates and
 * deletes on either side update the joined rows (insert/update/delete by the output key).
 * `no-regenerates`: changes on the dimension side (right, or left for a rightouter join) update its
 * table but emit nothing; the fact side's events are joined with the dimension as it is then.
 */
export const joinKind: WindowKind = {
  kind: "join",
  xmlElement: "window-join",
  inputs: [2, 2],
  schema: "none",
  readXml: (view) => readXmlJoin(view) as unknown as Record<string, unknown>,
  readYaml: (node) => readYamlJoin(node) as unknown as Record<string, unknown>,
  writeYaml(window) {
    const spec = window.spec as unknown as JoinSpec;
    const join: Record<string, unknown> = { type: spec.type };
    if (spec.noRegenerates) join.noRegenerates = true;
    join.conditions = spec.conditions.map((c) => ({ left: c.left, right: c.right }));
    const output = spec.output.map((out) =>
      "source" in out
        ? { name: out.name, source: out.source }
        : { name: out.name, type: out.type, expr: exprToYaml(out.expr) },
    );
    return { join, output };
  },
  resolve(def, inputs) {
    const plan = planJoin(def, inputs);
    if (def.schema !== undefined) throw windowError(def, "a join derives its schema from its output fields");
    const stateKeys = ([0, 1] as const).map((side) => ({
      role: side === 0 ? "left join condition" : "right join condition",
      fields: plan.conditions[side].map((i) => inputs[side]!.schema.fields[i]!.name),
      sources: plan.conditions[side].map((i) => inputs[side]!.lineage[i] ?? []),
    }));
    return { schema: plan.schema, stateful: true, emitsInsertOnly: false, stateKeys, lineage: plan.lineage };
  },
  create(window, context) {
    return new JoinOperator(window, planJoin(window, context.inputs), context);
  },
};
