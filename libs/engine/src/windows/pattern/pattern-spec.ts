import type { ExprText } from "../../model/project-model.js";
import { XmlView } from "../../model/xml-view.js";
import type { YamlView } from "../../model/yaml-view.js";
import { exprToYaml } from "../common.js";

/** An event of interest: a predicate over the events of a source window. */
export interface PatternEventSpec {
  readonly name: string;
  /** The input window; may be left out when the pattern window has one input. */
  readonly source: string | undefined;
  /** Predicate with unification variables (`s==symbol and price > p0`). */
  readonly expression: ExprText;
}

/** One output field of a pattern: a field of a node's event, or an expression. */
export type PatternOutputSpec =
  | { readonly node: string; readonly field: string }
  | { readonly node: string | undefined; readonly expr: ExprText };

/** The event-time field of a source window. */
export interface PatternTimefieldSpec {
  readonly source: string | undefined;
  readonly field: string;
}

/** One pattern of a pattern window. */
export interface PatternSpec {
  readonly name: string | undefined;
  readonly events: readonly PatternEventSpec[];
  readonly logic: ExprText;
  readonly output: readonly PatternOutputSpec[];
  readonly timefields: readonly PatternTimefieldSpec[];
}

/** The settings of a pattern window (`WindowDef.spec`). */
export interface PatternWindowSpec {
  readonly patterns: readonly PatternSpec[];
  /** Cap on live partial matches per key (per shard when the pattern has no key). */
  readonly maxPartialMatches: number | undefined;
}

function positiveInteger(text: string, fail: (message: string) => never): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) fail(`max-partial-matches must be a positive integer, not "${text}"`);
  return value;
}

/** Reads `<window-pattern>`: `<patterns><pattern><events>…<logic>…<output>…<timefields>`. */
export function readPatternXml(view: XmlView): PatternWindowSpec {
  const cap = view.attr("max-partial-matches");
  const maxPartialMatches =
    cap === undefined
      ? undefined
      : positiveInteger(cap, (m) => {
          throw view.error(m);
        });
  const patternsElement = view.requireChild("patterns");
  const patterns = patternsElement.children("pattern").map((element): PatternSpec => {
    const name = element.attr("name");
    element.ignoreAttributes("index", "is_active");
    const eventsElement = element.requireChild("events");
    const events = eventsElement.children("event").map((event) => {
      const spec = { name: event.requireAttr("name"), source: event.attr("source"), expression: event.expr };
      event.finish();
      return spec;
    });
    eventsElement.finish();
    const logicElement = element.requireChild("logic");
    const logic = logicElement.expr;
    logicElement.finish();
    const outputElement = element.requireChild("output");
    const output: PatternOutputSpec[] = [];
    outputElement.ignoreChildren("field-selection", "field-expr");
    for (const child of outputElement.element.children) {
      if (child.name !== "field-selection" && child.name !== "field-expr") continue;
      const entry = new XmlView(child, outputElement.window);
      if (child.name === "field-selection") {
        output.push({ node: entry.requireAttr("node"), field: entry.requireAttr("name") });
      } else {
        output.push({ node: entry.attr("node"), expr: entry.expr });
        entry.ignoreAttributes("name", "type");
      }
      entry.finish();
    }
    outputElement.finish();
    const timefieldsElement = element.child("timefields");
    const timefields = (timefieldsElement?.children("timefield") ?? []).map((timefield) => {
      const spec = { field: timefield.requireAttr("field"), source: timefield.attr("source") };
      timefield.finish();
      return spec;
    });
    timefieldsElement?.finish();
    element.finish();
    return { name, events, logic, output, timefields };
  });
  patternsElement.finish();
  if (patterns.length === 0) throw patternsElement.error("<patterns> has no <pattern>");
  return { patterns, maxPartialMatches };
}

/**
 * Reads the YAML form:
 *
 * ```yaml
 * kind: pattern
 * maxPartialMatches: 1000
 * patterns:
 *   - name: rising
 *     events:
 *       - { name: e1, source: Trades, expression: "s==symbol and p0==price" }
 *     logic: "fby{200 milliseconds}(e1, e2)"
 *     output: [{ node: e1, field: symbol }, { node: e2, expr: "price - p0" }]
 *     timefields: [{ source: Trades, field: time }]
 * ```
 */
export function readPatternYaml(node: YamlView): PatternWindowSpec {
  const capNode = node.get("maxPartialMatches");
  const maxPartialMatches =
    capNode === undefined
      ? undefined
      : positiveInteger(capNode.string(), (m) => {
          throw capNode.error(m);
        });
  const patterns = node
    .require("patterns")
    .items()
    .map((item): PatternSpec => {
      const name = item.optString("name");
      const events = item
        .require("events")
        .items()
        .map((event) => {
          const spec = {
            name: event.require("name").string(),
            source: event.optString("source"),
            expression: event.require("expression").expr(),
          };
          event.finish();
          return spec;
        });
      const logic = item.require("logic").expr();
      const output = item
        .require("output")
        .items()
        .map((entry): PatternOutputSpec => {
          const exprNode = entry.get("expr");
          const spec: PatternOutputSpec =
            exprNode === undefined
              ? { node: entry.require("node").string(), field: entry.require("field").string() }
              : { node: entry.optString("node"), expr: exprNode.expr() };
          entry.finish();
          return spec;
        });
      const timefields = (item.get("timefields")?.items() ?? []).map((entry) => {
        const spec = { field: entry.require("field").string(), source: entry.optString("source") };
        entry.finish();
        return spec;
      });
      item.finish();
      return { name, events, logic, output, timefields };
    });
  if (patterns.length === 0) throw node.require("patterns").error("a pattern window needs at least one pattern");
  return { patterns, maxPartialMatches };
}

/** Writes the settings as YAML keys (the inverse of {@link readPatternYaml}). */
export function writePatternYaml(spec: PatternWindowSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.maxPartialMatches !== undefined) out.maxPartialMatches = spec.maxPartialMatches;
  out.patterns = spec.patterns.map((pattern) => {
    const entry: Record<string, unknown> = {};
    if (pattern.name !== undefined) entry.name = pattern.name;
    entry.events = pattern.events.map((event) => ({
      name: event.name,
      ...(event.source === undefined ? {} : { source: event.source }),
      expression: exprToYaml(event.expression),
    }));
    entry.logic = exprToYaml(pattern.logic);
    entry.output = pattern.output.map((output) =>
      "field" in output
        ? { node: output.node, field: output.field }
        : { ...(output.node === undefined ? {} : { node: output.node }), expr: exprToYaml(output.expr) },
    );
    if (pattern.timefields.length > 0) {
      entry.timefields = pattern.timefields.map((t) => ({
        ...(t.source === undefined ? {} : { source: t.source }),
        field: t.field,
      }));
    }
    return entry;
  });
  return out;
}
