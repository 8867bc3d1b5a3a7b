import { type Batch, Opcode, type Value } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import type { WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow } from "../runtime/flow.js";
import { ShardedTable } from "../runtime/sharded-table.js";
import { createKeyEncoder, type KeyEncoder, rowValues, type TableKey } from "../runtime/values.js";
import type { JoinPlan } from "./join-plan.js";
import type { OperatorContext, WindowOperator } from "./window-kind.js";

interface SideEntry {
  readonly shard: number;
  values: Value[];
  /** No-regenerates fact rows: the output row last emitted for it. */
  out?: Value[] | undefined;
}

/** A joined row: one entry per side (null for the unmatched side of an outer join). */
interface Pair {
  readonly l: SideEntry | null;
  readonly r: SideEntry | null;
  /** Values of the side that changed, as they were (the entry itself holds the new ones). */
  readonly lValues: Value[] | null;
  readonly rValues: Value[] | null;
}

interface Side {
  readonly table: ShardedTable<SideEntry>;
  /** Condition key -> keys of the rows with those condition values. */
  readonly index: Map<TableKey, Set<TableKey>>;
  readonly keys: KeyEncoder;
  readonly keyIndexes: readonly number[];
  readonly conditions: KeyEncoder;
  readonly conditionIndexes: readonly number[];
  /** Whether its rows are stored (not for an insert-only fact side with no-regenerates). */
  readonly stored: boolean;
}

interface Emission {
  readonly opcode: number;
  readonly shard: number;
  /** Index of the new pair (insert, update) in `pairs`, or -1. */
  readonly now: number;
  /** Index of the old pair (update, delete) in `pairs`, or -1. */
  readonly before: number;
  /** No-regenerates: the fact entry to remember the new output on. */
  readonly fact?: SideEntry | undefined;
  /** No-regenerates: the output values emitted before. */
  readonly previous?: Value[] | undefined;
}

/** Runs a join window; see `join.ts` for the semantics. */
export class JoinOperator implements WindowOperator {
  private readonly sides: readonly [Side, Side];
  private readonly outputKeys: KeyEncoder;
  private pairs: Pair[] = [];
  private emissions: Emission[] = [];

  constructor(
    private readonly window: WindowModel,
    private readonly plan: JoinPlan,
    private readonly context: OperatorContext,
  ) {
    const make = (side: 0 | 1): Side => {
      const schema = context.inputs[side]!.schema;
      const conditionIndexes = plan.conditions[side];
      const types = conditionIndexes.map((i) => schema.fields[i]!.type);
      const numericOnly = types.every((t) => t !== "string" && t !== "blob");
      return {
        table: new ShardedTable(),
        index: new Map(),
        keys: createKeyEncoder(
          schema.keyIndexes,
          schema.keyIndexes.map((i) => schema.fields[i]!.type),
        ),
        keyIndexes: schema.keyIndexes,
        // Both sides must encode equal condition values alike: one numeric field stays a number.
        conditions: createKeyEncoder(
          conditionIndexes,
          conditionIndexes.length === 1 && numericOnly ? ["double"] : types,
        ),
        conditionIndexes,
        stored: !(plan.factSide === side && context.inputs[side]!.emitsInsertOnly),
      };
    };
    this.sides = [make(0), make(1)];
    const schema = window.schema;
    this.outputKeys = createKeyEncoder(
      schema.keyIndexes,
      schema.keyIndexes.map((i) => schema.fields[i]!.type),
    );
  }

  private conditionOf(side: Side, values: readonly Value[]): TableKey | undefined {
    const parts = side.conditionIndexes.map((i) => values[i] ?? null);
    if (parts.some((part) => part === null)) return undefined;
    return side.conditions.ofValues(parts);
  }

  private indexAdd(side: Side, key: TableKey, values: readonly Value[]): void {
    const condition = this.conditionOf(side, values);
    if (condition === undefined) return;
    let keys = side.index.get(condition);
    if (keys === undefined) {
      keys = new Set();
      side.index.set(condition, keys);
    }
    keys.add(key);
  }

  private indexRemove(side: Side, key: TableKey, values: readonly Value[]): void {
    const condition = this.conditionOf(side, values);
    if (condition === undefined) return;
    const keys = side.index.get(condition);
    keys?.delete(key);
    if (keys?.size === 0) side.index.delete(condition);
  }

  /** Rows of `side` whose condition equals the condition of `values` (from the other side). */
  private matches(side: Side, other: Side, values: readonly Value[] | null): SideEntry[] {
    if (values === null) return [];
    const condition = this.conditionOf(other, values);
    if (condition === undefined) return [];
    const keys = side.index.get(condition);
    if (keys === undefined) return [];
    return [...keys].map((key) => side.table.get(key)!);
  }

  process(flow: Flow, input: number): Flow | undefined {
    const batch = flow.batch;
    for (let row = 0; row < batch.length; row++) {
      if (this.plan.factSide === undefined) this.regenerate(batch, row, input as 0 | 1, flow);
      else if (this.plan.factSide === input) this.fact(batch, row, input as 0 | 1, flow);
      else this.store(this.sides[input]!, batch, row, flow);
    }
    return this.flush();
  }

  /** Applies an event to a side's table; returns the entry before and after (values copied). */
  private store(
    side: Side,
    batch: Batch,
    row: number,
    flow: Flow,
  ): { entry: SideEntry | undefined; before: Value[] | null } {
    const key = side.keys.ofRow(batch, row);
    const entry = side.table.get(key);
    const before = entry?.values ?? null;
    if (batch.opcodes[row] === Opcode.Delete) {
      if (entry === undefined) return { entry: undefined, before };
      side.table.delete(key);
      this.indexRemove(side, key, entry.values);
      this.context.markDirty(entry.shard);
      return { entry: undefined, before };
    }
    const values = rowValues(batch, row);
    if (entry !== undefined) {
      this.indexRemove(side, key, entry.values);
      entry.values = values;
      this.indexAdd(side, key, values);
      this.context.markDirty(entry.shard);
      return { entry, before };
    }
    const created: SideEntry = { shard: flow.shards.get(row), values };
    side.table.set(key, created);
    this.indexAdd(side, key, values);
    this.context.markDirty(created.shard);
    return { entry: created, before };
  }

  private pairKey(pair: Pair): TableKey {
    const values = this.plan.keySources.map((source) => {
      const side = source.side === 0 ? pair.lValues : pair.rValues;
      return side === null ? null : (side[source.index] ?? null);
    });
    return this.outputKeys.ofValues(values);
  }

  /**
   * The joined rows an event on `changed` can affect, given that side's row values and the rows of
   * the other side sharing its condition: its pairs (or its unmatched row) and the other side's
   * unmatched rows.
   */
  private affected(
    changedSide: 0 | 1,
    entry: SideEntry | null,
    values: Value[] | null,
    others: readonly SideEntry[],
  ): Map<TableKey, Pair> {
    const out = new Map<TableKey, Pair>();
    const add = (pair: Pair) => out.set(this.pairKey(pair), pair);
    const self = this.sides[changedSide];
    const otherSide = this.sides[changedSide === 0 ? 1 : 0];
    const make = (mine: SideEntry | null, mineValues: Value[] | null, theirs: SideEntry | null): Pair =>
      changedSide === 0
        ? { l: mine, lValues: mineValues, r: theirs, rValues: theirs?.values ?? null }
        : { l: theirs, lValues: theirs?.values ?? null, r: mine, rValues: mineValues };
    if (values !== null) {
      const matched = this.matches(otherSide, self, values);
      for (const other of matched) add(make(entry, values, other));
      if (matched.length === 0 && this.plan.outer[changedSide]) add(make(entry, values, null));
    }
    if (this.plan.outer[changedSide === 0 ? 1 : 0]) {
      for (const other of others) {
        if (this.matches(self, otherSide, other.values).length === 0) add(make(null, null, other));
      }
    }
    return out;
  }

  private regenerate(batch: Batch, row: number, input: 0 | 1, flow: Flow): void {
    const side = this.sides[input];
    const otherSide = this.sides[input === 0 ? 1 : 0];
    const key = side.keys.ofRow(batch, row);
    const existing = side.table.get(key);
    const newValues = batch.opcodes[row] === Opcode.Delete ? null : rowValues(batch, row);
    const oldValues = existing?.values ?? null;
    const others = new Map<TableKey, SideEntry>();
    for (const other of [...this.matches(otherSide, side, oldValues), ...this.matches(otherSide, side, newValues)]) {
      others.set(otherSide.keys.ofValues(otherSide.keyIndexes.map((i) => other.values[i] ?? null)), other);
    }
    const before = this.affected(input, existing ?? null, oldValues, [...others.values()]);
    const { entry } = this.store(side, batch, row, flow);
    const after = this.affected(input, entry ?? null, entry?.values ?? null, [...others.values()]);
    for (const [outKey, pair] of before) {
      const next = after.get(outKey);
      if (next === undefined) this.emit(Opcode.Delete, -1, this.addPair(pair), this.shardOf(pair));
      else if (next.lValues !== pair.lValues || next.rValues !== pair.rValues) {
        this.emit(Opcode.Update, this.addPair(next), this.addPair(pair), this.shardOf(next));
      }
    }
    for (const [outKey, pair] of after) {
      if (!before.has(outKey)) this.emit(Opcode.Insert, this.addPair(pair), -1, this.shardOf(pair));
    }
  }

  /** No-regenerates: an event on the fact side, joined with the dimension as it is now. */
  private fact(batch: Batch, row: number, input: 0 | 1, flow: Flow): void {
    const side = this.sides[input];
    const dimension = this.sides[input === 0 ? 1 : 0];
    let entry: SideEntry | undefined;
    let previous: Value[] | undefined;
    if (side.stored) {
      const key = side.keys.ofRow(batch, row);
      previous = side.table.get(key)?.out;
      entry = this.store(side, batch, row, flow).entry;
    }
    const values = batch.opcodes[row] === Opcode.Delete ? null : (entry?.values ?? rowValues(batch, row));
    let pair: Pair | undefined;
    if (values !== null) {
      const [match] = this.matches(dimension, side, values);
      const mine = entry ?? null;
      if (match !== undefined || this.plan.outer[input]) {
        pair =
          input === 0
            ? { l: mine, lValues: values, r: match ?? null, rValues: match?.values ?? null }
            : { l: match ?? null, lValues: match?.values ?? null, r: mine, rValues: values };
      }
    }
    const shard = entry?.shard ?? flow.shards.get(row);
    if (pair === undefined) {
      if (entry !== undefined) entry.out = undefined;
      if (previous !== undefined) this.emissions.push({ opcode: Opcode.Delete, shard, now: -1, before: -1, previous });
      return;
    }
    const opcode = previous === undefined ? Opcode.Insert : Opcode.Update;
    this.emissions.push({ opcode, shard, now: this.addPair(pair), before: -1, fact: entry, previous });
  }

  private shardOf(pair: Pair): number {
    return (pair.l ?? pair.r)?.shard ?? 0;
  }

  private addPair(pair: Pair): number {
    this.pairs.push(pair);
    return this.pairs.length - 1;
  }

  private emit(opcode: number, now: number, before: number, shard: number): void {
    this.emissions.push({ opcode, shard, now, before });
  }

  /** Computes the output rows of the pairs gathered for this batch and builds the output flow. */
  private flush(): Flow | undefined {
    const emissions = this.emissions;
    const pairs = this.pairs;
    this.emissions = [];
    this.pairs = [];
    if (emissions.length === 0) return undefined;
    const rows = this.outputRows(pairs);
    const schema = this.window.schema;
    const out = new BatchWriter(schema, emissions.length);
    const old = new BatchWriter(schema, emissions.length);
    const shards = new Uint32Array(emissions.length);
    let hasUpdates = false;
    emissions.forEach((emission, i) => {
      shards[i] = emission.shard;
      const now = emission.now >= 0 ? rows[emission.now]! : undefined;
      const before = emission.before >= 0 ? rows[emission.before]! : emission.previous;
      if (emission.fact !== undefined) emission.fact.out = now;
      if (emission.opcode === Opcode.Delete) {
        out.appendValues(before!, Opcode.Delete);
        old.appendValues(before!, Opcode.Delete);
        return;
      }
      out.appendValues(now!, emission.opcode);
      old.appendValues(before ?? now!, emission.opcode);
      if (emission.opcode === Opcode.Update) hasUpdates = true;
    });
    return { batch: out.finish(), old: hasUpdates ? old.finish() : undefined, shards: new ArrayShards(shards) };
  }

  private outputRows(pairs: readonly Pair[]): Value[][] {
    const columns = this.plan.columns;
    const rows = pairs.map((pair) =>
      columns.map((column) => {
        if (column.side === undefined) return null;
        const values = column.side === 0 ? pair.lValues : pair.rValues;
        return values === null ? null : (values[column.index] ?? null);
      }),
    );
    if (columns.some((column) => column.expr !== undefined) && pairs.length > 0) {
      const writer = new BatchWriter(this.plan.pairSchema, pairs.length);
      const leftWidth = this.context.inputs[0]!.schema.fields.length;
      const rightWidth = this.context.inputs[1]!.schema.fields.length;
      for (const pair of pairs) {
        const l = pair.lValues ?? new Array<Value>(leftWidth).fill(null);
        const r = pair.rValues ?? new Array<Value>(rightWidth).fill(null);
        writer.appendValues([...l, ...r], Opcode.Insert);
      }
      const source = writer.finish();
      columns.forEach((column, c) => {
        if (column.expr === undefined) return;
        const type = this.window.schema.fields[c]!.type;
        const vec = column.expr.evaluate(source, null, pairs.length);
        for (let k = 0; k < pairs.length; k++) rows[k]![c] = coerce(vec.valueAt(k), type);
      });
    }
    return rows;
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const [left, right] = this.sides;
    const nl = left.table.countOf(shard);
    const nr = right.table.countOf(shard);
    if (nl === 0 && nr === 0) return false;
    for (const side of this.sides) {
      out.u32(side.table.countOf(shard));
      for (const [, entry] of side.table.ofShard(shard)) {
        out.values(entry.values);
        out.u8(entry.out === undefined ? 0 : 1);
        if (entry.out !== undefined) out.values(entry.out);
      }
    }
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    for (const side of this.sides) {
      const count = input.u32();
      for (let i = 0; i < count; i++) {
        const values = input.values();
        const out = input.u8() === 1 ? input.values() : undefined;
        const key = side.keys.ofValues(side.keyIndexes.map((k) => values[k] ?? null));
        side.table.set(key, { shard, values, out });
        this.indexAdd(side, key, values);
      }
    }
  }

  drop(shard: number): void {
    for (const side of this.sides) {
      for (const [key, entry] of side.table.dropShard(shard)) this.indexRemove(side, key, entry.values);
    }
  }

  *shards(): Iterable<number> {
    const seen = new Set<number>([...this.sides[0].table.shards(), ...this.sides[1].table.shards()]);
    yield* seen;
  }

  query(): Batch {
    const writer = new BatchWriter(this.window.schema, 16);
    if (this.plan.factSide !== undefined) {
      const fact = this.sides[this.plan.factSide];
      if (!fact.stored) {
        throw new MeshError(
          "FAILED_PRECONDITION",
          `join "${this.window.name}" keeps no rows: its fact input is insert-only with no-regenerates`,
        );
      }
      for (const entry of fact.table.values())
        if (entry.out !== undefined) writer.appendValues(entry.out, Opcode.Insert);
      return writer.finish();
    }
    const pairs: Pair[] = [];
    for (const entry of this.sides[0].table.values()) {
      const matched = this.matches(this.sides[1], this.sides[0], entry.values);
      for (const other of matched) pairs.push({ l: entry, lValues: entry.values, r: other, rValues: other.values });
      if (matched.length === 0 && this.plan.outer[0])
        pairs.push({ l: entry, lValues: entry.values, r: null, rValues: null });
    }
    if (this.plan.outer[1]) {
      for (const entry of this.sides[1].table.values()) {
        if (this.matches(this.sides[0], this.sides[1], entry.values).length === 0) {
          pairs.push({ l: null, lValues: null, r: entry, rValues: entry.values });
        }
      }
    }
    for (const row of this.outputRows(pairs)) writer.appendValues(row, Opcode.Insert);
    return writer.finish();
  }
}

function coerce(value: Value, type: string): Value {
  if (value === null) return null;
  if (type === "int32" || type === "int64" || type === "date" || type === "stamp") {
    return Math.trunc(typeof value === "boolean" ? Number(value) : (value as number));
  }
  return value;
}
