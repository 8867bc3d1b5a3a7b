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
  addNumberColumn,
  applyAdditive,
  Group,
  groupResults,
  type Member,
  readGroup,
  writeGroup,
} from "./aggregate-group.js";
import { type AggregatePlan, coerceOut, planAggregate } from "./aggregate-plan.js";
import { GroupSlots } from "./aggregate-slots.js";
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
  private readonly slots: GroupSlots;
  /** Scratch: the group of every event of the batch, and the offset of its slot. */
  private rowGroups: Group[] = [];
  private rowOffsets = new Int32Array(64);
  /** Scratch: a direct-mapped cache of the batch's string group keys (see {@link stringSlot}). */
  private readonly cachedKeys = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);
  private readonly cachedGroups = new Array<Group | undefined>(KEY_CACHE_SIZE).fill(undefined);
  private touched: Group[] = [];
  /** Writers of the emitted events and of their old values, reused from batch to batch. */
  private readonly out: BatchWriter;
  private readonly old: BatchWriter;
  private shardScratch = new Uint32Array(16);
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
    this.slots = new GroupSlots(plan.calls.length);
    this.out = new BatchWriter(window.schema);
    this.old = new BatchWriter(window.schema);
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

  /**
   * The group of row `row` of `batch`, created when new; `event` is the index of the event in
   * the flow (for its shard).
   */
  private groupOf(batch: Batch, row: number, flow: Flow, event: number = row): Group {
    const key = this.groupKeys.ofRow(batch, row);
    let group = this.groups.get(key);
    if (group === undefined) {
      const keyValues = this.plan.groupBy.map((index) => valueAt(batch.columns[index]!, row));
      group = new Group(key, keyValues, flow.shards.get(event), this.plan.calls.length, this.keepMembers);
      this.slots.adopt(group);
      this.groups.set(key, group);
    }
    return group;
  }

  process(flow: Flow): Flow | undefined {
    this.epoch++;
    this.touched = [];
    const n = flow.batch.length;
    const selection = flow.old === undefined ? flow.selection : undefined;
    if (!this.keepMembers) {
      // Insert-only input: a selection is read in place.
      const source = selection === undefined ? flow.batch : selection.source;
      this.processRunning(flow, source, selection === undefined ? null : selection.rows, n);
    } else {
      const batch = flow.batch;
      this.processHeld(
        flow,
        this.plan.calls.map((call) => call.args.map((arg) => arg.evaluate(batch, null, n))),
      );
    }
    return this.emit();
  }

  /**
   * Insert-only input: running values, column by column. Event `k` of the flow is row `rows[k]`
   * of `source` (row `k` without rows).
   */
  private processRunning(flow: Flow, source: Batch, rows: Uint32Array | null, n: number): void {
    if (this.rowGroups.length < n) this.rowGroups = new Array<Group>(n);
    if (this.rowOffsets.length < n) this.rowOffsets = new Int32Array(Math.max(n, this.rowOffsets.length * 2));
    const rowGroups = this.rowGroups;
    const rowOffsets = this.rowOffsets;
    const stride = this.slots.stride;
    const single = this.plan.groupBy.length === 1 ? source.columns[this.plan.groupBy[0]!]! : undefined;
    if (single !== undefined && single.nulls === undefined && single.type === "string") {
      // The common case: one string group-by field without nulls. A hash lookup per event costs
      // more than everything else done for it, so a small direct-mapped cache of this batch's
      // keys is tried first.
      const keys = single.values as string[];
      const cachedKeys = this.cachedKeys;
      const cachedGroups = this.cachedGroups;
      cachedKeys.fill(undefined);
      for (let k = 0; k < n; k++) {
        const row = rows === null ? k : rows[k]!;
        const key = keys[row]!;
        const at = stringSlot(key);
        let group: Group;
        if (cachedKeys[at] === key) group = cachedGroups[at]!;
        else {
          group = this.groups.get(key) ?? this.groupOf(source, row, flow, k);
          cachedKeys[at] = key;
          cachedGroups[at] = group;
        }
        if (group.epoch !== this.epoch) this.touch(group);
        group.count++;
        rowGroups[k] = group;
        rowOffsets[k] = group.slot * stride;
      }
    } else {
      let last: Group | undefined;
      let lastKey: TableKey | undefined;
      for (let k = 0; k < n; k++) {
        const row = rows === null ? k : rows[k]!;
        const key = this.groupKeys.ofRow(source, row);
        let group: Group;
        if (key === lastKey && last !== undefined) group = last;
        else {
          group = this.groups.get(key) ?? this.groupOf(source, row, flow, k);
          last = group;
          lastKey = key;
          this.touch(group);
        }
        group.count++;
        rowGroups[k] = group;
        rowOffsets[k] = group.slot * stride;
      }
    }
    const target = { groups: rowGroups, offsets: rowOffsets, slots: this.slots };
    const calls = this.plan.calls;
    for (let slot = 0; slot < calls.length; slot++) {
      const call = calls[slot]!;
      // A bare numeric field without nulls is read in place; anything else is evaluated first.
      const field = call.argColumns.length === 1 ? call.argColumns[0] : undefined;
      const column = field === undefined ? undefined : source.columns[field]!;
      if (
        column !== undefined &&
        column.nulls === undefined &&
        column.values instanceof Float64Array &&
        addNumberColumn(call, slot, target, column.values, rows, n)
      ) {
        continue;
      }
      addColumn(
        call,
        slot,
        target,
        call.args.map((arg) => arg.evaluate(source, rows, n)),
        n,
      );
    }
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
    const width = this.window.schema.fields.length;
    const computed = this.outerResults(touched, now);
    const out = this.out;
    const old = this.old;
    if (this.shardScratch.length < touched.length) this.shardScratch = new Uint32Array(touched.length * 2);
    const shards = this.shardScratch;
    const keyColumns = plan.keyColumns;
    const fields = plan.fields;
    let hasUpdates = false;
    let liveIndex = 0;
    for (const group of touched) {
      this.context.markDirty(group.shard);
      if (group.count <= 0) {
        if (group.output !== undefined) {
          shards[out.length] = group.shard;
          out.appendValues(group.output, Opcode.Delete);
          old.appendValues(group.output, Opcode.Delete);
        }
        this.groups.delete(group.key);
        this.slots.release(group);
        continue;
      }
      const i = liveIndex++;
      const results = computed === undefined ? groupResults(plan.calls, group, now) : computed.results[i]!;
      const row = new Array<Value>(width);
      for (let k = 0; k < keyColumns.length; k++) row[keyColumns[k]!] = group.keyValues[k]!;
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f]!;
        const value = field.direct !== undefined ? results[field.direct]! : computed!.vecs[f]!.valueAt(i);
        row[field.index] = coerceOut(value ?? null, field.type);
      }
      const previous = group.output;
      if (previous !== undefined && sameValues(previous, row)) continue;
      group.output = row;
      shards[out.length] = group.shard;
      out.appendValues(row, previous === undefined ? Opcode.Insert : Opcode.Update);
      old.appendValues(previous ?? row, previous === undefined ? Opcode.Insert : Opcode.Update);
      if (previous !== undefined) hasUpdates = true;
    }
    if (out.length === 0) return undefined;
    const length = out.length;
    const batch = out.finish();
    const before = old.finish();
    return {
      batch,
      old: hasUpdates ? before : undefined,
      shards: new ArrayShards(shards.slice(0, length)),
    };
  }

  /**
   * When some field is an expression over the aggregate results (not one call's result), the
   * results of every live touched group and the values of those expressions, evaluated over them
   * as a batch.
   */
  private outerResults(touched: readonly Group[], now: number): { results: Value[][]; vecs: Vec[] } | undefined {
    const plan = this.plan;
    if (!plan.fields.some((field) => field.expr !== undefined)) return undefined;
    const live = touched.filter((group) => group.count > 0);
    const results = live.map((group) => groupResults(plan.calls, group, now));
    if (live.length === 0) return { results, vecs: [] };
    const writer = new BatchWriter(plan.resultsSchema, live.length);
    for (const [i, group] of live.entries()) writer.appendValues([...results[i]!, ...group.keyValues], Opcode.Insert);
    const source = writer.finish();
    const vecs = plan.fields.map((field) =>
      field.expr === undefined
        ? (undefined as unknown as Vec)
        : copyVec(field.expr.evaluate(source, null, live.length), live.length),
    );
    return { results, vecs };
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
      const replaced = this.groups.get(group.key);
      if (replaced !== undefined) this.slots.release(replaced);
      this.slots.adopt(group);
      this.groups.set(group.key, group);
      for (const key of group.members?.keys() ?? []) this.memberIndex.set(key, group);
    }
  }

  drop(shard: number): void {
    for (const [, group] of this.groups.dropShard(shard)) {
      this.slots.release(group);
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

/** Entries of the group-key cache of one batch (a power of two). */
const KEY_CACHE_SIZE = 256;

/**
 * The cache entry of a string key: a multiplicative hash of its length and its first, middle and
 * last characters (top 8 bits). Keys that share an entry only miss the cache.
 */
function stringSlot(key: string): number {
  const n = key.length;
  // charCodeAt past the end is NaN, which the bit operations read as 0.
  const mix = key.charCodeAt(0) ^ (key.charCodeAt(n - 1) << 8) ^ (key.charCodeAt(n >> 1) << 16) ^ (n << 24);
  return Math.imul(mix, 0x9e3779b1) >>> 24;
}

/** A snapshot of a result vector's values (the vector itself is reused by the next evaluation). */
function copyVec(vec: Vec, n: number): Vec {
  const values: Value[] = [];
  for (let k = 0; k < n; k++) values.push(vec.valueAt(k));
  return { valueAt: (k: number) => values[k] ?? null } as unknown as Vec;
}
