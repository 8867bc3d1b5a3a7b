import { type Batch, Opcode, type Value } from "@espmesh/events";
import type { Vec } from "../expr/vec.js";
import type { WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow } from "../runtime/flow.js";
import { ShardedTable } from "../runtime/sharded-table.js";
import { createKeyEncoder, type KeyEncoder, sameValues, type TableKey, valueAt } from "../runtime/values.js";
import {
  addColumn,
  applyAdditive,
  Group,
  groupResults,
  type Member,
  readGroup,
  writeGroup,
} from "./aggregate-group.js";
import { type AggregatePlan, coerceOut, planAggregate } from "./aggregate-plan.js";
import { requireSchema } from "./common.js";
import { fieldExprsToYaml, readXmlFieldExprs, readYamlFieldExprs } from "./compute.js";
import type { OperatorContext, WindowKind, WindowOperator } from "./window-kind.js";

/**
 * The aggregate window: groups by the key fields of its schema (taken from the input fields of the
 * same names); every other field is an expression over ESP_a* functions (ESP_aSum, ESP_aCount,
 * ESP_aAve, ESP_aMin, ESP_aMax, ESP_aFirst, ESP_aLast, ESP_aStd, ESP_aLag, ESP_aCat, ESP_aWAve and
 * their *Timed variants). Inserts, updates and deletes from the input retract correctly: a keyed
 * input makes the window hold each group's events (as ESP does), so min, max, first, last, lag and
 * cat are recomputed when an event leaves; an insert-only input keeps running values only. Per
 * input batch, each group that changed emits one event: insert when new, update when its values
 * changed, delete when it became empty.
 */
export const aggregateKind: WindowKind = {
  kind: "aggregate",
  xmlElement: "window-aggregate",
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
    const plan = planAggregate(def, schema, input);
    const keyFields = plan.keyColumns.map((index) => schema.fields[index]!.name);
    const sources = plan.groupBy.map((index) => input.lineage[index] ?? []);
    const lineage = schema.fields.map((field) => {
      const k = keyFields.indexOf(field.name);
      return k < 0 ? [] : sources[k]!;
    });
    return {
      schema,
      stateful: true,
      emitsInsertOnly: false,
      stateKeys: [{ role: "group-by", fields: keyFields, sources }],
      lineage,
    };
  },
  create(window, context) {
    const input = context.inputs[0]!;
    return new AggregateOperator(window, planAggregate(window, window.schema, input), input, context);
  },
};

class AggregateOperator implements WindowOperator {
  private readonly groups = new ShardedTable<Group>();
  /** Input key -> its group, when the window holds events. */
  private readonly memberIndex = new Map<TableKey, Group>();
  private readonly groupKeys: KeyEncoder;
  private readonly inputKeys: KeyEncoder;
  private readonly keepMembers: boolean;
  private readonly prunable: boolean;
  private readonly maxPeriod: number;
  private rowGroups: Group[] = [];
  private touched: Group[] = [];
  private epoch = 0;

  constructor(
    private readonly window: WindowModel,
    private readonly plan: AggregatePlan,
    input: WindowModel,
    private readonly context: OperatorContext,
  ) {
    this.groupKeys = createKeyEncoder(
      plan.groupBy,
      plan.groupBy.map((i) => input.schema.fields[i]!.type),
    );
    const inputKeys = input.schema.keyIndexes;
    this.inputKeys = createKeyEncoder(
      inputKeys,
      inputKeys.map((i) => input.schema.fields[i]!.type),
    );
    const timed = plan.calls.some((call) => call.timed);
    this.keepMembers = !input.emitsInsertOnly || timed;
    this.prunable = input.emitsInsertOnly && plan.calls.every((call) => call.timed);
    this.maxPeriod = Math.max(0, ...plan.calls.map((call) => (call.timed ? call.period : 0)));
  }

  private touch(group: Group): void {
    if (group.epoch === this.epoch) return;
    group.epoch = this.epoch;
    this.touched.push(group);
  }

  private groupOf(batch: Batch, row: number, flow: Flow): Group {
    const key = this.groupKeys.ofRow(batch, row);
    let group = this.groups.get(key);
    if (group === undefined) {
      const keyValues = this.plan.groupBy.map((index) => valueAt(batch.columns[index]!, row));
      group = new Group(key, keyValues, flow.shards.get(row), this.plan.calls.length, this.keepMembers);
      this.groups.set(key, group);
    }
    return group;
  }

  process(flow: Flow): Flow | undefined {
    const batch = flow.batch;
    const n = batch.length;
    this.epoch++;
    this.touched = [];
    const args: Vec[][] = this.plan.calls.map((call) => call.args.map((arg) => arg.evaluate(batch, null, n)));
    if (this.keepMembers) this.processHeld(flow, args);
    else this.processRunning(flow, args);
    return this.emit();
  }

  /** Insert-only input: running values, column by column. */
  private processRunning(flow: Flow, args: Vec[][]): void {
    const batch = flow.batch;
    const n = batch.length;
    if (this.rowGroups.length < n) this.rowGroups = new Array<Group>(n);
    const rowGroups = this.rowGroups;
    let last: Group | undefined;
    let lastKey: TableKey | undefined;
    const single = this.plan.groupBy.length === 1 ? batch.columns[this.plan.groupBy[0]!]! : undefined;
    if (single !== undefined && single.nulls === undefined && single.type === "string") {
      // The common case: one string group-by field without nulls.
      const keys = single.values as string[];
      for (let row = 0; row < n; row++) {
        const key = keys[row]!;
        let group: Group;
        if (key === lastKey && last !== undefined) group = last;
        else {
          group = this.groups.get(key) ?? this.groupOf(batch, row, flow);
          last = group;
          lastKey = key;
          this.touch(group);
        }
        group.count++;
        rowGroups[row] = group;
      }
      for (const [slot, call] of this.plan.calls.entries()) addColumn(call, slot, rowGroups, args[slot]!, n);
      return;
    }
    for (let row = 0; row < n; row++) {
      const key = this.groupKeys.ofRow(batch, row);
      let group: Group;
      if (key === lastKey && last !== undefined) group = last;
      else {
        group = this.groups.get(key) ?? this.groupOf(batch, row, flow);
        last = group;
        lastKey = key;
        this.touch(group);
      }
      group.count++;
      rowGroups[row] = group;
    }
    for (const [slot, call] of this.plan.calls.entries()) addColumn(call, slot, rowGroups, args[slot]!, n);
  }

  /** Keyed input: the group holds its events; updates and deletes retract the old event. */
  private processHeld(flow: Flow, args: Vec[][]): void {
    const batch = flow.batch;
    const now = this.context.now();
    const calls = this.plan.calls;
    for (let row = 0; row < batch.length; row++) {
      const opcode = batch.opcodes[row]!;
      const inputKey = this.inputKeys.ofRow(batch, row);
      const previous = this.memberIndex.get(inputKey);
      if (previous !== undefined) this.retract(previous, inputKey);
      if (opcode === Opcode.Delete) continue;
      const group = this.groupOf(batch, row, flow);
      const memberArgs = new Array<Value>(this.plan.argCount);
      calls.forEach((call, slot) => {
        const vecs = args[slot]!;
        for (let i = 0; i < vecs.length; i++) memberArgs[call.argOffset + i] = vecs[i]!.valueAt(row);
      });
      const member: Member = { args: memberArgs, time: now };
      calls.forEach((call, slot) => {
        if (call.additive) applyAdditive(call, group, slot, memberArgs, call.argOffset, 1);
      });
      group.members!.set(inputKey, member);
      group.count++;
      this.memberIndex.set(inputKey, group);
      this.touch(group);
    }
    if (this.prunable && this.maxPeriod > 0) {
      for (const group of this.touched) this.prune(group, now - this.maxPeriod);
    }
  }

  private retract(group: Group, inputKey: TableKey): void {
    const member = group.members!.get(inputKey);
    if (member === undefined) return;
    this.plan.calls.forEach((call, slot) => {
      if (call.additive) applyAdditive(call, group, slot, member.args, call.argOffset, -1);
    });
    group.members!.delete(inputKey);
    group.count--;
    this.memberIndex.delete(inputKey);
    this.touch(group);
  }

  /** Forgets held events older than every period (insert-only input: they can never be retracted). */
  private prune(group: Group, before: number): void {
    for (const [key, member] of group.members!) {
      if (member.time > before) break;
      this.retract(group, key);
    }
  }

  private emit(): Flow | undefined {
    const touched = this.touched;
    if (touched.length === 0) return undefined;
    const now = this.context.now();
    const plan = this.plan;
    const schema = this.window.schema;
    const live = touched.filter((group) => group.count > 0);
    const results = live.map((group) => groupResults(plan.calls, group, now));
    let computed: Vec[] | undefined;
    if (plan.fields.some((field) => field.expr !== undefined) && live.length > 0) {
      const writer = new BatchWriter(plan.resultsSchema, live.length);
      for (const [i, group] of live.entries()) writer.appendValues([...results[i]!, ...group.keyValues], Opcode.Insert);
      const source = writer.finish();
      computed = plan.fields.map((field) =>
        field.expr === undefined
          ? (undefined as unknown as Vec)
          : copyVec(field.expr.evaluate(source, null, live.length), live.length),
      );
    }
    const out = new BatchWriter(schema, touched.length);
    const old = new BatchWriter(schema, touched.length);
    const shards: number[] = [];
    let hasUpdates = false;
    let liveIndex = 0;
    for (const group of touched) {
      this.context.markDirty(group.shard);
      if (group.count <= 0) {
        if (group.output !== undefined) {
          out.appendValues(group.output, Opcode.Delete);
          old.appendValues(group.output, Opcode.Delete);
          shards.push(group.shard);
        }
        this.groups.delete(group.key);
        continue;
      }
      const i = liveIndex++;
      const row = new Array<Value>(schema.fields.length);
      plan.keyColumns.forEach((column, k) => {
        row[column] = group.keyValues[k]!;
      });
      plan.fields.forEach((field, f) => {
        const value = field.direct !== undefined ? results[i]![field.direct]! : computed![f]!.valueAt(i);
        row[field.index] = coerceOut(value ?? null, field.type);
      });
      const previous = group.output;
      if (previous !== undefined && sameValues(previous, row)) continue;
      group.output = row;
      out.appendValues(row, previous === undefined ? Opcode.Insert : Opcode.Update);
      old.appendValues(previous ?? row, previous === undefined ? Opcode.Insert : Opcode.Update);
      if (previous !== undefined) hasUpdates = true;
      shards.push(group.shard);
    }
    if (out.length === 0) return undefined;
    return {
      batch: out.finish(),
      old: hasUpdates ? old.finish() : undefined,
      shards: new ArrayShards(Uint32Array.from(shards)),
    };
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const count = this.groups.countOf(shard);
    if (count === 0) return false;
    out.u32(count);
    for (const [, group] of this.groups.ofShard(shard)) writeGroup(out, group);
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    const count = input.u32();
    for (let i = 0; i < count; i++) {
      const group = readGroup(input, shard, this.plan.calls.length, this.keepMembers, (values) =>
        this.groupKeys.ofValues(values),
      );
      this.groups.set(group.key, group);
      for (const key of group.members?.keys() ?? []) this.memberIndex.set(key, group);
    }
  }

  drop(shard: number): void {
    for (const [, group] of this.groups.dropShard(shard)) {
      for (const key of group.members?.keys() ?? []) this.memberIndex.delete(key);
    }
  }

  shards(): Iterable<number> {
    return this.groups.shards();
  }

  query(): Batch {
    const writer = new BatchWriter(this.window.schema, Math.max(1, this.groups.size));
    for (const group of this.groups.values())
      if (group.output !== undefined) writer.appendValues(group.output, Opcode.Insert);
    return writer.finish();
  }
}

/** A snapshot of a result vector's values (the vector itself is reused by the next evaluation). */
function copyVec(vec: Vec, n: number): Vec {
  const values: Value[] = [];
  for (let k = 0; k < n; k++) values.push(vec.valueAt(k));
  return { valueAt: (k: number) => values[k] ?? null } as unknown as Vec;
}
