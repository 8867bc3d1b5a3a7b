import type { Batch, Column, Schema } from "@espmesh/events";
import { loadError } from "../errors.js";
import { assignable } from "../expr/check.js";
import { type CompiledExpr, vecToColumn, vecToColumnAt } from "../expr/compile.js";
import type { ExprText, FieldSource, WindowDef, WindowModel } from "../model/project-model.js";
import type { XmlView } from "../model/xml-view.js";
import type { YamlView } from "../model/yaml-view.js";
import { type Flow, type Selection, selectedFlow } from "../runtime/flow.js";
import { compileSpecExpr, exprToYaml, lineageOf, requireSchema, schemaScope, windowError } from "./common.js";
import type { WindowKind, WindowOperator } from "./window-kind.js";

/** The non-key fields of a schema, in order. */
export function nonKeyFields(schema: Schema): string[] {
  return schema.fields.filter((field) => !field.key).map((field) => field.name);
}

/**
 * Reads `<output><field-expr>…</field-expr>…</output>`: one expression per non-key field of the
 * schema, in order (a `name` attribute may say which field). Returned as a list of
 * `{ field?, expr }` resolved against the schema later.
 */
export function readXmlFieldExprs(view: XmlView): { field: string | undefined; expr: ExprText }[] {
  const output = view.requireChild("output");
  const exprs = output.children("field-expr").map((element) => {
    const field = element.attr("name");
    element.ignoreAttributes("type");
    element.finish();
    return { field, expr: element.expr };
  });
  output.finish();
  return exprs;
}

/** Reads `fields: { name: expression, ... }` of a YAML window. */
export function readYamlFieldExprs(node: YamlView): { field: string | undefined; expr: ExprText }[] {
  const fields = node.require("fields");
  const out = fields.keys().map((name) => ({ field: name, expr: fields.require(name).expr() }));
  fields.finish();
  return out;
}

/** Pairs each non-key field of a schema with its expression; errors on missing or extra ones. */
export function bindFieldExprs(def: WindowDef, schema: Schema): Map<string, ExprText> {
  const exprs = def.spec.fields as { field: string | undefined; expr: ExprText }[];
  const targets = nonKeyFields(schema);
  const bound = new Map<string, ExprText>();
  const named = exprs.some((entry) => entry.field !== undefined);
  if (named) {
    for (const entry of exprs) {
      if (entry.field === undefined) throw windowError(def, "either every field-expr names its field or none does");
      if (!targets.includes(entry.field)) {
        throw windowError(
          def,
          `field-expr for "${entry.field}", which is not a non-key field of the schema`,
          entry.field,
        );
      }
      bound.set(entry.field, entry.expr);
    }
  } else {
    if (exprs.length !== targets.length) {
      throw windowError(
        def,
        `${exprs.length} field-expr element(s) for ${targets.length} non-key field(s) (${targets.join(", ")}); give one per non-key field, in schema order`,
      );
    }
    for (const [i, field] of targets.entries()) bound.set(field, exprs[i]!.expr);
  }
  for (const field of targets) {
    if (!bound.has(field)) throw windowError(def, `no expression for field "${field}"`, field);
  }
  return bound;
}

/** Writes field expressions back as YAML `fields:`. */
export function fieldExprsToYaml(spec: Readonly<Record<string, unknown>>, schema?: Schema): Record<string, string> {
  const exprs = spec.fields as { field: string | undefined; expr: ExprText }[];
  const names = schema === undefined ? [] : nonKeyFields(schema);
  const out: Record<string, string> = {};
  exprs.forEach((entry, i) => {
    out[entry.field ?? names[i] ?? `field${i}`] = exprToYaml(entry.expr);
  });
  return out;
}

interface ComputeField {
  readonly index: number;
  readonly source: number | undefined;
  readonly expr: CompiledExpr | undefined;
}

function compileFields(window: WindowDef, schema: Schema, input: WindowModel): ComputeField[] {
  const bound = bindFieldExprs(window, schema);
  const scope = schemaScope(input.schema);
  return schema.fields.map((field, index) => {
    if (field.key) {
      const source = input.schema.indexOf(field.name);
      if (source < 0) {
        throw windowError(window, `key field "${field.name}" must be a field of the input "${input.name}"`, field.name);
      }
      const from = input.schema.fields[source]!;
      if (from.type !== field.type) {
        throw windowError(
          window,
          `key field "${field.name}" is ${field.type} but the input's is ${from.type}`,
          field.name,
        );
      }
      return { index, source, expr: undefined };
    }
    const text = bound.get(field.name)!;
    const expr = compileSpecExpr(text, scope, window.name);
    // A plain reference to an input field of the same type passes its column through.
    const plain = input.schema.indexOf(text.text.trim());
    if (plain >= 0 && input.schema.fields[plain]!.type === field.type) return { index, source: plain, expr: undefined };
    if (!assignable(expr.cls, field.type)) {
      throw loadError(`field "${field.name}" is ${field.type} but its expression gives a ${expr.cls}`, {
        line: text.line,
        column: text.column,
        window: window.name,
        field: field.name,
      });
    }
    return { index, source: undefined, expr };
  });
}

/**
 * The compute window: key fields copied from the input, one expression per non-key field.
 * Evaluated column by column over the whole batch.
 */
export const computeKind: WindowKind = {
  kind: "compute",
  xmlElement: "window-compute",
  inputs: [1, 1],
  schema: "required",
  readXml(view) {
    return { fields: readXmlFieldExprs(view) };
  },
  readYaml(node) {
    return { fields: readYamlFieldExprs(node) };
  },
  writeYaml(window) {
    return { fields: fieldExprsToYaml(window.spec, window.schema) };
  },
  resolve(def, inputs) {
    const input = inputs[0]!;
    const schema = requireSchema(def);
    const fields = compileFields(def, schema, input);
    const lineage: (readonly FieldSource[])[] = fields.map((field) => {
      if (field.source !== undefined) return input.lineage[field.source] ?? [];
      const text = field.expr!.text.trim();
      return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(text) ? lineageOf(input, text) : [];
    });
    return { schema, stateful: false, emitsInsertOnly: input.emitsInsertOnly, stateKeys: [], lineage };
  },
  create(window, context) {
    return new ComputeOperator(window, compileFields(window, window.schema, context.inputs[0]!));
  },
};

class ComputeOperator implements WindowOperator {
  constructor(
    private readonly window: WindowModel,
    private readonly fields: readonly ComputeField[],
  ) {}

  private compute(batch: Batch): Batch {
    const n = batch.length;
    const columns: Column[] = this.fields.map((field) => {
      const type = this.window.schema.fields[field.index]!.type;
      if (field.source !== undefined) return batch.columns[field.source]!;
      return vecToColumn(field.expr!.evaluate(batch, null, n), n, type);
    });
    return { schema: this.window.schema, length: n, opcodes: batch.opcodes, columns };
  }

  process(flow: Flow): Flow | undefined {
    const selection = flow.selection;
    if (selection !== undefined && flow.old === undefined) return this.computeSelected(flow, selection);
    return {
      batch: this.compute(flow.batch),
      old: flow.old === undefined ? undefined : this.compute(flow.old),
      shards: flow.shards,
    };
  }

  /**
   * A selection in, a selection out: the output source shares the copied columns with the input
   * source, and each expression is evaluated for the selected rows only, its results placed at
   * their rows.
   */
  private computeSelected(flow: Flow, selection: Selection): Flow {
    const source = selection.source;
    const rows = selection.rows;
    const n = flow.batch.length;
    const columns: Column[] = this.fields.map((field) => {
      if (field.source !== undefined) return source.columns[field.source]!;
      const type = this.window.schema.fields[field.index]!.type;
      return vecToColumnAt(field.expr!.evaluate(source, rows, n), n, type, rows, source.length);
    });
    const computed: Batch = { schema: this.window.schema, length: source.length, opcodes: source.opcodes, columns };
    return selectedFlow(computed, rows, n, flow.shards);
  }
}
