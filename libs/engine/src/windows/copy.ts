import { type Batch, type FieldType, Opcode, type Value } from "@espmesh/events";
import type { WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow } from "../runtime/flow.js";
import { MinHeap } from "../runtime/heap.js";
import { ShardedTable } from "../runtime/sharded-table.js";
import { createKeyEncoder, type KeyEncoder, rowValues, type TableKey } from "../runtime/values.js";
import { eventTimeMicros, formatDuration, inheritLineage, parseDuration, windowError } from "./common.js";
import type { OperatorContext, WindowKind, WindowOperator } from "./window-kind.js";

/** Retention policies of copy windows. */
export type RetentionType = "bytime_sliding" | "bytime_jumping" | "bycount_sliding" | "bycount_jumping";

const RETENTION_TYPES: readonly RetentionType[] = [
  "bytime_sliding",
  "bytime_jumping",
  "bycount_sliding",
  "bycount_jumping",
];

/** A copy window's retention: a period (µs) for time types, a count for count types. */
export interface Retention {
  readonly type: RetentionType;
  readonly period?: number;
  readonly count?: number;
  /** Event-time field (date, stamp or int64 µs); system time (the engine clock) when absent. */
  readonly field?: string;
}

function parseRetention(
  type: string,
  amount: string,
  field: string | undefined,
  fail: (m: string) => never,
): Retention {
  if (!(RETENTION_TYPES as readonly string[]).includes(type)) {
    fail(`unknown retention type "${type}" (expected one of ${RETENTION_TYPES.join(", ")})`);
  }
  const kind = type as RetentionType;
  if (kind.startsWith("bytime")) {
    const period = parseDuration(amount);
    if (period === undefined) fail(`retention period "${amount}" is not a duration (like "5 seconds")`);
    return field === undefined ? { type: kind, period } : { type: kind, period, field };
  }
  const count = Number(amount.trim());
  if (!Number.isInteger(count) || count < 1) fail(`retention count "${amount}" must be a positive integer`);
  if (field !== undefined) fail("a count retention takes no field");
  return { type: kind, count };
}

/**
 * The copy window: a keyed copy of its input, optionally with retention. `bytime_sliding` deletes
 * each row `period` after it was last written; `bytime_jumping` deletes every row at the end of
 * the period it was written in; `bycount_sliding` keeps the last N rows; `bycount_jumping` empties
 * itself when the (N+1)th row arrives. Time is the engine clock (expiry happens in
 * `engine.advance`) or, with `field`, the event time (expiry as the latest event time moves on).
 * Expiry emits deletes. A delete for a row already expired is ignored.
 */
export const copyKind: WindowKind = {
  kind: "copy",
  xmlElement: "window-copy",
  inputs: [1, 1],
  schema: "none",
  readXml(view) {
    const element = view.child("retention");
    if (element === undefined) return {};
    const type = element.requireAttr("type");
    const field = element.attr("field");
    element.finish();
    const retention = parseRetention(type, element.text, field, (m) => {
      throw element.error(m);
    });
    return { retention };
  },
  readYaml(node) {
    const element = node.get("retention");
    if (element === undefined) return {};
    const type = element.require("type").string();
    const amountNode = type.startsWith("bytime") ? element.require("period") : element.require("count");
    const field = element.optString("field");
    element.finish();
    const retention = parseRetention(type, amountNode.string(), field, (m) => {
      throw amountNode.error(m);
    });
    return { retention };
  },
  writeYaml({ spec }) {
    const retention = spec.retention as Retention | undefined;
    if (retention === undefined) return {};
    const out: Record<string, unknown> = { type: retention.type };
    if (retention.period !== undefined) out.period = formatDuration(retention.period);
    if (retention.count !== undefined) out.count = retention.count;
    if (retention.field !== undefined) out.field = retention.field;
    return { retention: out };
  },
  resolve(def, inputs) {
    const input = inputs[0]!;
    const retention = def.spec.retention as Retention | undefined;
    if (retention?.field !== undefined) {
      const index = input.schema.indexOf(retention.field);
      const type = input.schema.fields[index]?.type;
      if (type === undefined)
        throw windowError(def, `retention field "${retention.field}" is not a field of the input`, retention.field);
      if (type !== "stamp" && type !== "date" && type !== "int64") {
        throw windowError(
          def,
          `retention field "${retention.field}" must be a stamp, date or int64, not ${type}`,
          retention.field,
        );
      }
    }
    const keyFields = input.schema.keyIndexes.map((i) => input.schema.fields[i]!.name);
    return {
      schema: input.schema,
      stateful: true,
      emitsInsertOnly: false,
      lineage: inheritLineage(input),
      stateKeys: [
        { role: "key", fields: keyFields, sources: input.schema.keyIndexes.map((i) => input.lineage[i] ?? []) },
      ],
    };
  },
  create(window, context) {
    return new CopyOperator(window, context);
  },
};

interface CopyEntry {
  readonly shard: number;
  values: Value[];
  time: number;
  seq: number;
  version: number;
}

class CopyOperator implements WindowOperator {
  private readonly table = new ShardedTable<CopyEntry>();
  private readonly heap = new MinHeap<{ key: TableKey; version: number }>();
  private readonly keys: KeyEncoder;
  private readonly retention: Retention | undefined;
  private readonly timeIndex: number;
  private readonly timeType: FieldType | undefined;
  private seq = 0;
  private nextVersion = 0;
  private watermark = Number.NEGATIVE_INFINITY;
  private out!: BatchWriter;
  private old!: BatchWriter;
  private outShards: number[] = [];
  private hasUpdates = false;

  constructor(
    private readonly window: WindowModel,
    private readonly context: OperatorContext,
  ) {
    const schema = window.schema;
    this.keys = createKeyEncoder(
      schema.keyIndexes,
      schema.keyIndexes.map((i) => schema.fields[i]!.type),
    );
    this.retention = window.spec.retention as Retention | undefined;
    this.timeIndex = this.retention?.field === undefined ? -1 : schema.indexOf(this.retention.field);
    this.timeType = this.timeIndex < 0 ? undefined : schema.fields[this.timeIndex]!.type;
    this.reset();
  }

  private reset(): void {
    this.out = new BatchWriter(this.window.schema, 16);
    this.old = new BatchWriter(this.window.schema, 16);
    this.outShards = [];
    this.hasUpdates = false;
  }

  private get byTime(): boolean {
    return this.retention?.type.startsWith("bytime") === true;
  }

  /** The expiry time (time retention) or order (count retention) of an entry. */
  private due(entry: CopyEntry): number {
    const retention = this.retention!;
    if (retention.type === "bytime_sliding") return entry.time + retention.period!;
    if (retention.type === "bytime_jumping")
      return (Math.floor(entry.time / retention.period!) + 1) * retention.period!;
    return entry.seq;
  }

  private track(key: TableKey, entry: CopyEntry): void {
    if (this.retention !== undefined) this.heap.push(this.due(entry), { key, version: entry.version });
  }

  private emit(values: readonly Value[], opcode: number, shard: number, previous?: readonly Value[]): void {
    this.outShards.push(shard);
    this.out.appendValues(values, opcode);
    this.old.appendValues(previous ?? values, opcode);
    if (previous !== undefined) this.hasUpdates = true;
  }

  private flush(): Flow | undefined {
    if (this.out.length === 0) return undefined;
    const flow: Flow = {
      batch: this.out.finish(),
      old: this.hasUpdates ? this.old.finish() : undefined,
      shards: new ArrayShards(Uint32Array.from(this.outShards)),
    };
    this.reset();
    return flow;
  }

  private remove(key: TableKey): void {
    const entry = this.table.delete(key);
    if (entry === undefined) return;
    this.context.markDirty(entry.shard);
    this.emit(entry.values, Opcode.Delete, entry.shard);
  }

  process(flow: Flow): Flow | undefined {
    const batch = flow.batch;
    const now = this.context.now();
    for (let row = 0; row < batch.length; row++) this.apply(batch, row, flow, now);
    if (this.timeIndex >= 0) this.expireUntil(this.watermark);
    return this.flush();
  }

  private eventTime(batch: Batch, row: number, now: number): number {
    if (this.timeIndex < 0) return now;
    const column = batch.columns[this.timeIndex]!;
    const isNull = column.nulls !== undefined && (column.nulls[row >>> 3]! & (1 << (row & 7))) !== 0;
    if (isNull) return this.watermark === Number.NEGATIVE_INFINITY ? now : this.watermark;
    const time = eventTimeMicros(this.timeType!, (column.values as Float64Array)[row]!);
    if (time > this.watermark) this.watermark = time;
    return time;
  }

  private apply(batch: Batch, row: number, flow: Flow, now: number): void {
    const opcode = batch.opcodes[row]!;
    const key = this.keys.ofRow(batch, row);
    const entry = this.table.get(key);
    if (opcode === Opcode.Delete) {
      if (entry !== undefined) this.remove(key);
      return;
    }
    const time = this.eventTime(batch, row, now);
    if (entry !== undefined) {
      const previous = entry.values;
      entry.values = rowValues(batch, row);
      entry.time = time;
      entry.version = this.nextVersion++;
      this.track(key, entry);
      this.context.markDirty(entry.shard);
      this.emit(entry.values, Opcode.Update, entry.shard, previous);
      return;
    }
    if (this.retention?.type === "bycount_jumping" && this.table.size >= this.retention.count!) {
      for (const [existing] of [...this.table]) this.remove(existing);
      this.heap.clear();
    }
    const shard = flow.shards.get(row);
    const created: CopyEntry = {
      shard,
      values: rowValues(batch, row),
      time,
      seq: this.seq++,
      version: this.nextVersion++,
    };
    this.table.set(key, created);
    this.track(key, created);
    this.context.markDirty(shard);
    this.emit(created.values, Opcode.Insert, shard);
    if (this.retention?.type === "bycount_sliding") {
      while (this.table.size > this.retention.count!) this.expireOne(Number.POSITIVE_INFINITY);
    }
  }

  /** Removes the next due entry if due at or before `limit`; false when none is. */
  private expireOne(limit: number): boolean {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.at > limit) return false;
      this.heap.pop();
      const entry = this.table.get(top.value.key);
      if (entry === undefined || entry.version !== top.value.version) continue;
      this.remove(top.value.key);
      return true;
    }
  }

  private expireUntil(time: number): void {
    while (this.expireOne(time)) {}
  }

  advance(now: number): Flow | undefined {
    if (!this.byTime || this.timeIndex >= 0) return undefined;
    this.expireUntil(now);
    return this.flush();
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const count = this.table.countOf(shard);
    if (count === 0) return false;
    out.f64(this.watermark);
    out.u32(count);
    for (const [, entry] of this.table.ofShard(shard)) {
      out.f64(entry.time);
      out.f64(entry.seq);
      out.values(entry.values);
    }
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    this.watermark = Math.max(this.watermark, input.f64());
    const count = input.u32();
    const keyIndexes = this.window.schema.keyIndexes;
    for (let i = 0; i < count; i++) {
      const time = input.f64();
      const seq = input.f64();
      const values = input.values();
      const key = this.keys.ofValues(keyIndexes.map((k) => values[k] ?? null));
      const entry: CopyEntry = { shard, values, time, seq, version: this.nextVersion++ };
      this.table.set(key, entry);
      this.track(key, entry);
      this.seq = Math.max(this.seq, seq + 1);
    }
  }

  drop(shard: number): void {
    this.table.dropShard(shard);
  }

  shards(): Iterable<number> {
    return this.table.shards();
  }

  query(): Batch {
    const writer = new BatchWriter(this.window.schema, Math.max(1, this.table.size));
    for (const entry of this.table.values()) writer.appendValues(entry.values, Opcode.Insert);
    return writer.finish();
  }
}
