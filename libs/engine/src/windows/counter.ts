import { type Batch, Opcode, parseSchemaString, type Value } from "@espmesh/events";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow } from "../runtime/flow.js";
import { formatDuration, windowError, xmlDuration, yamlDuration } from "./common.js";
import type { OperatorContext, WindowKind, WindowOperator } from "./window-kind.js";

/** The output schema of every counter window. */
export const COUNTER_SCHEMA = parseSchemaString(
  "input*:string,totalCount:int64,totalRate:double,intervalCount:int64,intervalRate:double",
);

/**
 * The counter window: counts the events arriving from each input. Every `count-interval` (as the
 * engine's time advances) it emits one row per input: the total count and rate since it started
 * (or since the last `clear-interval`), and the count and rate over the last interval (rates per
 * second). Counts are kept per shard, so the window snapshots and moves like any other.
 */
export const counterKind: WindowKind = {
  kind: "counter",
  xmlElement: "window-counter",
  inputs: [1, Number.POSITIVE_INFINITY],
  schema: "none",
  readXml(view) {
    const count = view.attr("count-interval");
    const clear = view.attr("clear-interval");
    return {
      countInterval: count === undefined ? 1e6 : xmlDuration(view, count, "count-interval"),
      clearInterval: clear === undefined ? undefined : xmlDuration(view, clear, "clear-interval"),
    };
  },
  readYaml(node) {
    const count = node.get("countInterval");
    const clear = node.get("clearInterval");
    return {
      countInterval: count === undefined ? 1e6 : yamlDuration(count, "countInterval"),
      clearInterval: clear === undefined ? undefined : yamlDuration(clear, "clearInterval"),
    };
  },
  writeYaml({ spec }) {
    const out: Record<string, unknown> = { countInterval: formatDuration(spec.countInterval as number) };
    if (spec.clearInterval !== undefined) out.clearInterval = formatDuration(spec.clearInterval as number);
    return out;
  },
  resolve(def) {
    if (typeof def.spec.countInterval !== "number" || def.spec.countInterval <= 0) {
      throw windowError(def, "count-interval must be a positive duration");
    }
    return {
      schema: COUNTER_SCHEMA,
      stateful: true,
      emitsInsertOnly: false,
      stateKeys: [],
      lineage: COUNTER_SCHEMA.fields.map(() => []),
    };
  },
  create(window, context) {
    return new CounterOperator(
      context.inputs.map((input) => input.name),
      window.spec.countInterval as number,
      window.spec.clearInterval as number | undefined,
      context,
    );
  },
};

interface ShardCounts {
  /** Per input: total count, interval count. */
  readonly counts: Float64Array;
}

class CounterOperator implements WindowOperator {
  private readonly byShard = new Map<number, ShardCounts>();
  private started: number | undefined;
  private nextEmit: number | undefined;
  private nextClear: number | undefined;
  private readonly emitted = new Set<string>();
  private readonly lastRows = new Map<string, Value[]>();

  constructor(
    private readonly inputs: readonly string[],
    private readonly interval: number,
    private readonly clearInterval: number | undefined,
    private readonly context: OperatorContext,
  ) {}

  private countsOf(shard: number): ShardCounts {
    let counts = this.byShard.get(shard);
    if (counts === undefined) {
      counts = { counts: new Float64Array(this.inputs.length * 2) };
      this.byShard.set(shard, counts);
    }
    return counts;
  }

  private start(now: number): void {
    if (this.started !== undefined) return;
    this.started = now;
    this.nextEmit = now + this.interval;
    if (this.clearInterval !== undefined) this.nextClear = now + this.clearInterval;
  }

  process(flow: Flow, input: number): Flow | undefined {
    this.start(this.context.now());
    const n = flow.batch.length;
    let last = -1;
    let counts: Float64Array | undefined;
    for (let row = 0; row < n; row++) {
      const shard = flow.shards.get(row);
      if (shard !== last) {
        counts = this.countsOf(shard).counts;
        this.context.markDirty(shard);
        last = shard;
      }
      counts![input * 2]! += 1;
      counts![input * 2 + 1]! += 1;
    }
    return undefined;
  }

  advance(now: number): Flow | undefined {
    if (this.nextEmit === undefined || now < this.nextEmit) return undefined;
    const writer = new BatchWriter(COUNTER_SCHEMA, this.inputs.length);
    const elapsed = Math.max(1, now - this.started!) / 1e6;
    const intervalSeconds = this.interval / 1e6;
    const shards: number[] = [];
    this.inputs.forEach((input, i) => {
      let total = 0;
      let interval = 0;
      for (const entry of this.byShard.values()) {
        total += entry.counts[i * 2]!;
        interval += entry.counts[i * 2 + 1]!;
      }
      const values: Value[] = [input, total, total / elapsed, interval, interval / intervalSeconds];
      writer.appendValues(values, this.emitted.has(input) ? Opcode.Update : Opcode.Insert);
      this.lastRows.set(input, values);
      this.emitted.add(input);
      shards.push(0);
    });
    for (const [shard, entry] of this.byShard) {
      for (let i = 0; i < this.inputs.length; i++) entry.counts[i * 2 + 1] = 0;
      this.context.markDirty(shard);
    }
    while (this.nextEmit <= now) this.nextEmit += this.interval;
    if (this.nextClear !== undefined && now >= this.nextClear) {
      for (const entry of this.byShard.values()) entry.counts.fill(0);
      this.started = now;
      while (this.nextClear <= now) this.nextClear += this.clearInterval!;
    }
    return { batch: writer.finish(), old: undefined, shards: new ArrayShards(Uint32Array.from(shards)) };
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const entry = this.byShard.get(shard);
    if (entry === undefined) return false;
    out.f64(this.started ?? -1);
    out.f64(this.nextEmit ?? -1);
    out.f64(this.nextClear ?? -1);
    out.u32(this.emitted.size);
    for (const input of this.emitted) {
      out.string(input);
      out.values(this.lastRows.get(input) ?? []);
    }
    out.u32(entry.counts.length);
    for (const count of entry.counts) out.f64(count);
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    const started = input.f64();
    const nextEmit = input.f64();
    const nextClear = input.f64();
    if (started >= 0) {
      this.started = started;
      this.nextEmit = nextEmit;
      if (nextClear >= 0) this.nextClear = nextClear;
    }
    const emitted = input.u32();
    for (let i = 0; i < emitted; i++) {
      const name = input.string();
      const row = input.values();
      this.emitted.add(name);
      if (row.length > 0) this.lastRows.set(name, row);
    }
    const length = input.u32();
    const counts = this.countsOf(shard).counts;
    for (let i = 0; i < length; i++) {
      const value = input.f64();
      if (i < counts.length) counts[i] = value;
    }
  }

  query(): Batch {
    const writer = new BatchWriter(COUNTER_SCHEMA, Math.max(1, this.lastRows.size));
    for (const values of this.lastRows.values()) writer.appendValues(values, Opcode.Insert);
    return writer.finish();
  }

  drop(shard: number): void {
    this.byShard.delete(shard);
  }

  shards(): Iterable<number> {
    return this.byShard.keys();
  }
}
