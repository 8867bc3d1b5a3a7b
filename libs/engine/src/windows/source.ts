import { type Batch, Opcode, type Value } from "@espmesh/events";
import type { WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow, HashShards } from "../runtime/flow.js";
import { ShardedTable } from "../runtime/sharded-table.js";
import { createKeyEncoder, type KeyEncoder, rowValues } from "../runtime/values.js";
import { requireSchema, windowError } from "./common.js";
import type { OperatorContext, WindowKind, WindowOperator } from "./window-kind.js";

interface SourceEntry {
  readonly shard: number;
  values: Value[];
}

/**
 * The source window: where events enter. Keyed (the default) it keeps a table by primary key and
 * turns opcodes into table changes: insert of an existing key, update or delete of a missing key
 * are bad events (counted and logged, the rest of the batch goes on); upsert is insert or update.
 * Insert-only it accepts inserts only and keeps nothing. `pi_EMPTY` passes events through.
 * `autogen-key` fills a null int64 key of inserts with the next number.
 */
export const sourceKind: WindowKind = {
  kind: "source",
  xmlElement: "window-source",
  inputs: [0, 0],
  schema: "required",
  readXml(view) {
    return { autogenKey: view.boolAttr("autogen-key", false) };
  },
  readYaml(node) {
    return { autogenKey: node.optBoolean("autogenKey", false) };
  },
  writeYaml({ spec }) {
    return spec.autogenKey === true ? { autogenKey: true } : {};
  },
  resolve(def) {
    const schema = requireSchema(def);
    if (schema.keyIndexes.length === 0) {
      throw windowError(def, 'a source window needs at least one key field (mark it with * or key="true")');
    }
    if (def.spec.autogenKey === true) {
      const keys = schema.keyIndexes.map((i) => schema.fields[i]!);
      if (keys.length !== 1 || (keys[0]!.type !== "int64" && keys[0]!.type !== "int32")) {
        throw windowError(def, "autogen-key needs exactly one key field of type int64 or int32");
      }
    }
    const stateful = !def.insertOnly && def.index !== "pi_EMPTY";
    const lineage = schema.fields.map((field) => [{ window: def.name, field: field.name }]);
    const keyFields = schema.keyIndexes.map((i) => schema.fields[i]!.name);
    return {
      schema,
      stateful,
      emitsInsertOnly: def.insertOnly,
      lineage,
      stateKeys: stateful
        ? [{ role: "key", fields: keyFields, sources: keyFields.map((field) => [{ window: def.name, field }]) }]
        : [],
    };
  },
  create(window, context) {
    return new SourceOperator(window, context);
  },
};

class SourceOperator implements WindowOperator {
  private readonly table = new ShardedTable<SourceEntry>();
  private readonly keys: KeyEncoder;
  private readonly keyed: boolean;
  private readonly autogen: boolean;
  private nextId = 1;

  constructor(
    private readonly window: WindowModel,
    private readonly context: OperatorContext,
  ) {
    const schema = window.schema;
    this.keys = createKeyEncoder(
      schema.keyIndexes,
      schema.keyIndexes.map((i) => schema.fields[i]!.type),
    );
    this.keyed = window.stateful;
    this.autogen = window.spec.autogenKey === true;
  }

  process(flow: Flow): Flow | undefined {
    const input = this.autogen ? this.fillKeys(flow) : flow;
    if (this.window.insertOnly) return this.insertOnly(input);
    if (!this.keyed) return this.passThrough(input);
    return this.applyToTable(input);
  }

  private fillKeys(flow: Flow): Flow {
    const batch = flow.batch;
    const keyIndex = batch.schema.keyIndexes[0]!;
    const column = batch.columns[keyIndex]!;
    if (column.nulls === undefined) return flow;
    const values = (column.values as Float64Array | Int32Array).slice(0, batch.length);
    const nulls = column.nulls.slice();
    for (let row = 0; row < batch.length; row++) {
      const isNull = (nulls[row >>> 3]! & (1 << (row & 7))) !== 0;
      if (isNull && batch.opcodes[row] === Opcode.Insert) {
        values[row] = this.nextId++;
        nulls[row >>> 3] = nulls[row >>> 3]! & ~(1 << (row & 7));
      } else if (!isNull) {
        this.nextId = Math.max(this.nextId, values[row]! + 1);
      }
    }
    const columns = batch.columns.map((c, i) => (i === keyIndex ? { type: c.type, values, nulls } : c));
    const filled: Batch = { schema: batch.schema, length: batch.length, opcodes: batch.opcodes, columns };
    const shards =
      flow.shards instanceof HashShards
        ? new HashShards(filled, batch.schema.keyIndexes, this.context.shardCount)
        : flow.shards;
    return { batch: filled, old: undefined, shards };
  }

  private insertOnly(flow: Flow): Flow | undefined {
    const batch = flow.batch;
    const opcodes = batch.opcodes;
    const n = batch.length;
    let bad = 0;
    for (let row = 0; row < n; row++) if (opcodes[row] !== Opcode.Insert) bad++;
    if (bad === 0) return { batch, old: undefined, shards: flow.shards };
    const writer = new BatchWriter(batch.schema, batch.length);
    const shards = new Uint32Array(batch.length - bad);
    for (let row = 0; row < batch.length; row++) {
      if (opcodes[row] !== Opcode.Insert) {
        this.context.badEvent(row, "an insert-only window accepts inserts only", batch);
        continue;
      }
      shards[writer.length] = flow.shards.get(row);
      writer.appendRow(batch, row, Opcode.Insert);
    }
    return writer.length === 0
      ? undefined
      : { batch: writer.finish(), old: undefined, shards: new ArrayShards(shards) };
  }

  private passThrough(flow: Flow): Flow {
    const opcodes = flow.batch.opcodes;
    let changes = false;
    for (let row = 0; row < flow.batch.length && !changes; row++) {
      changes = opcodes[row] === Opcode.Update || opcodes[row] === Opcode.Upsert;
    }
    // Without a table the old values of an update are unknown: downstream sees them as unchanged.
    return { batch: flow.batch, old: changes ? flow.batch : undefined, shards: flow.shards };
  }

  private applyToTable(flow: Flow): Flow | undefined {
    const batch = flow.batch;
    const n = batch.length;
    const out = new BatchWriter(batch.schema, n);
    const old = new BatchWriter(batch.schema, 4);
    const shards = new Uint32Array(n);
    let onlyInserts = true;
    let hasUpdates = false;
    for (let row = 0; row < n; row++) {
      let opcode = batch.opcodes[row]!;
      const key = this.keys.ofRow(batch, row);
      const entry = this.table.get(key);
      if (opcode === Opcode.Upsert) opcode = entry === undefined ? Opcode.Insert : Opcode.Update;
      if (opcode === Opcode.Insert) {
        if (entry !== undefined) {
          this.reject(row, "insert of a key that already exists", batch);
          onlyInserts = false;
          continue;
        }
        const shard = flow.shards.get(row);
        this.table.set(key, { shard, values: rowValues(batch, row) });
        this.context.markDirty(shard);
        shards[out.length] = shard;
        this.emit(out, old, batch, row, Opcode.Insert, undefined);
        continue;
      }
      onlyInserts = false;
      if (entry === undefined) {
        this.reject(row, `${opcode === Opcode.Delete ? "delete" : "update"} of a key that does not exist`, batch);
        continue;
      }
      this.context.markDirty(entry.shard);
      shards[out.length] = entry.shard;
      if (opcode === Opcode.Delete) {
        this.table.delete(key);
        old.appendValues(entry.values, Opcode.Delete);
        out.appendValues(entry.values, Opcode.Delete);
        continue;
      }
      hasUpdates = true;
      const previous = entry.values;
      entry.values = rowValues(batch, row);
      this.emit(out, old, batch, row, Opcode.Update, previous);
    }
    if (onlyInserts) return { batch, old: undefined, shards: flow.shards };
    if (out.length === 0) return undefined;
    const length = out.length;
    return {
      batch: out.finish(),
      old: hasUpdates ? old.finish() : undefined,
      shards: new ArrayShards(shards.subarray(0, length)),
    };
  }

  private emit(
    out: BatchWriter,
    old: BatchWriter,
    batch: Batch,
    row: number,
    opcode: number,
    previous: Value[] | undefined,
  ): void {
    out.appendRow(batch, row, opcode);
    if (previous !== undefined) old.appendValues(previous, opcode);
    else old.appendRow(batch, row, opcode);
  }

  private reject(row: number, reason: string, batch: Batch): void {
    this.context.badEvent(row, reason, batch);
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const count = this.table.countOf(shard);
    if (count === 0 && !this.autogen) return false;
    out.f64(this.nextId);
    out.u32(count);
    for (const [, entry] of this.table.ofShard(shard)) out.values(entry.values);
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    this.nextId = Math.max(this.nextId, input.f64());
    const count = input.u32();
    const keyIndexes = this.window.schema.keyIndexes;
    for (let i = 0; i < count; i++) {
      const values = input.values();
      const key = this.keys.ofValues(keyIndexes.map((k) => values[k] ?? null));
      this.table.set(key, { shard, values });
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
