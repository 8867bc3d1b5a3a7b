import { Opcode } from "@espmesh/events";
import { uint32s } from "@espmesh/events/internal";
import type { CompiledExpr } from "../expr/compile.js";
import { isTrue } from "../expr/compile.js";
import type { ExprText, WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import { ArrayShards, type Flow, SelectedShards, selectedFlow } from "../runtime/flow.js";
import { compileSpecExpr, exprToYaml, inheritLineage, schemaScope, specExpr, windowError } from "./common.js";
import type { WindowKind, WindowOperator } from "./window-kind.js";

/**
 * The filter window: passes the events whose expression is true (null counts as false). Behind a
 * keyed window, an update that moves a row into the filter becomes an insert, one that moves it
 * out becomes a delete (of the old values).
 */
export const filterKind: WindowKind = {
  kind: "filter",
  xmlElement: "window-filter",
  inputs: [1, 1],
  schema: "none",
  readXml(view) {
    return { expression: view.requireChild("expression").expr };
  },
  readYaml(node) {
    return { expression: node.require("expression").expr() };
  },
  writeYaml({ spec }) {
    return { expression: exprToYaml(specExpr(spec, "expression")) };
  },
  resolve(def, inputs) {
    const input = inputs[0]!;
    const expr = compileSpecExpr(specExpr(def.spec, "expression"), schemaScope(input.schema), def.name);
    if (expr.cls === "string" || expr.cls === "blob") {
      throw windowError(def, `the filter expression must be a boolean, not a ${expr.cls}`);
    }
    return {
      schema: input.schema,
      stateful: false,
      emitsInsertOnly: input.emitsInsertOnly,
      stateKeys: [],
      lineage: inheritLineage(input),
    };
  },
  create(window, context) {
    const input = context.inputs[0]!;
    return new FilterOperator(
      window,
      compileSpecExpr(window.spec.expression as ExprText, schemaScope(input.schema), window.name),
    );
  },
};

class FilterOperator implements WindowOperator {
  /** Scratch: the kept events of the batch being filtered. */
  private kept = new Uint32Array(64);

  constructor(
    readonly window: WindowModel,
    private readonly predicate: CompiledExpr,
  ) {}

  process(flow: Flow): Flow | undefined {
    if (flow.old !== undefined) {
      const batch = flow.batch;
      const n = batch.length;
      const result = this.predicate.evaluate(batch, null, n);
      return this.withUpdates(flow, result.num.slice(0, n), result.anyNull ? result.nulls.slice(0, n) : undefined);
    }
    // No old values: pass the kept rows on as a selection of the input's rows (nothing is copied).
    const selection = flow.selection;
    const source = selection === undefined ? flow.batch : selection.source;
    const rows = selection === undefined ? null : selection.rows;
    const n = flow.batch.length;
    const result = this.predicate.evaluate(source, rows, n);
    if (this.kept.length < n) this.kept = new Uint32Array(Math.max(n, this.kept.length * 2));
    const kept = this.kept;
    const values = result.num;
    let count = 0;
    if (result.anyNull) {
      for (let k = 0; k < n; k++) if (isTrue(result, k)) kept[count++] = k;
    } else {
      for (let k = 0; k < n; k++) if (values[k] !== 0) kept[count++] = k;
    }
    if (count === n) return flow;
    if (count === 0) return undefined;
    const chosen = uint32s(count);
    chosen.set(kept.subarray(0, count));
    let sourceRows = chosen;
    if (rows !== null) {
      sourceRows = uint32s(count);
      for (let i = 0; i < count; i++) sourceRows[i] = rows[chosen[i]!]!;
    }
    return selectedFlow(source, sourceRows, count, new SelectedShards(flow.shards, chosen));
  }

  /** Keyed input with updates: compare old and new rows against the predicate. */
  private withUpdates(flow: Flow, passes: Float64Array, nulls: Uint8Array | undefined): Flow | undefined {
    const batch = flow.batch;
    const old = flow.old!;
    const n = batch.length;
    const oldResult = this.predicate.evaluate(old, null, n);
    const out = new BatchWriter(batch.schema, n);
    const oldOut = new BatchWriter(batch.schema, n);
    const shards = new Uint32Array(n);
    let hasUpdates = false;
    for (let row = 0; row < n; row++) {
      const opcode = batch.opcodes[row]!;
      const now = passes[row] !== 0 && !(nulls !== undefined && nulls[row] === 1);
      if (opcode !== Opcode.Update && opcode !== Opcode.Upsert) {
        if (!now) continue;
        shards[out.length] = flow.shards.get(row);
        out.appendRow(batch, row, opcode);
        oldOut.appendRow(batch, row, opcode);
        continue;
      }
      const before = isTrue(oldResult, row);
      if (!now && !before) continue;
      shards[out.length] = flow.shards.get(row);
      if (now && before) {
        out.appendRow(batch, row, opcode);
        oldOut.appendRow(old, row, opcode);
        hasUpdates = true;
      } else if (now) {
        out.appendRow(batch, row, Opcode.Insert);
        oldOut.appendRow(batch, row, Opcode.Insert);
      } else {
        out.appendRow(old, row, Opcode.Delete);
        oldOut.appendRow(old, row, Opcode.Delete);
      }
    }
    if (out.length === 0) return undefined;
    const length = out.length;
    return {
      batch: out.finish(),
      old: hasUpdates ? oldOut.finish() : undefined,
      shards: new ArrayShards(shards.subarray(0, length)),
    };
  }
}
