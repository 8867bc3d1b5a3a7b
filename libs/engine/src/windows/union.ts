import { type Batch, Opcode, sameSchema, schemaToString } from "@espmesh/events";
import type { WindowModel } from "../model/project-model.js";
import { BatchWriter } from "../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow } from "../runtime/flow.js";
import { ShardedTable } from "../runtime/sharded-table.js";
import { createKeyEncoder, type KeyEncoder, rowValues } from "../runtime/values.js";
import { windowError } from "./common.js";
import type { OperatorContext, WindowKind, WindowOperator } from "./window-kind.js";

/**
 * The union window: merges inputs of the same schema. Loose (the default) it passes every event
 * through. `strict` keeps the set of live keys: an insert of a key already live (from any input)
 * or an update/delete of a key that is not live is a bad event.
 */
export const unionKind: WindowKind = {
  kind: "union",
  xmlElement: "window-union",
  inputs: [1, Number.POSITIVE_INFINITY],
  schema: "none",
  readXml(view) {
    return { strict: view.boolAttr("strict", false) };
  },
  readYaml(node) {
    return { strict: node.optBoolean("strict", false) };
  },
  writeYaml({ spec }) {
    return spec.strict === true ? { strict: true } : {};
  },
  resolve(def, inputs) {
    const first = inputs[0]!;
    for (const input of inputs.slice(1)) {
      if (!sameSchema(first.schema, input.schema)) {
        throw windowError(
          def,
          `inputs of a union must have the same schema: "${first.name}" is ${schemaToString(first.schema)}, "${input.name}" is ${schemaToString(input.schema)}`,
        );
      }
    }
    const strict = def.spec.strict === true;
    const lineage = first.schema.fields.map((_, i) => inputs.flatMap((input) => input.lineage[i] ?? []));
    const keyFields = first.schema.keyIndexes.map((i) => first.schema.fields[i]!.name);
    return {
      schema: first.schema,
      stateful: strict,
      emitsInsertOnly: inputs.every((input) => input.emitsInsertOnly),
      lineage,
      stateKeys: strict
        ? [{ role: "key", fields: keyFields, sources: first.schema.keyIndexes.map((i) => lineage[i] ?? []) }]
        : [],
    };
  },
  create(window, context) {
    return window.spec.strict === true ? new StrictUnionOperator(window, context) : { process: (flow) => flow };
  },
};

class StrictUnionOperator implements WindowOperator {
  private readonly live = new ShardedTable<{ shard: number; key: unknown[] }>();
  private readonly keys: KeyEncoder;

  constructor(
    window: WindowModel,
    private readonly context: OperatorContext,
  ) {
    const schema = window.schema;
    this.keys = createKeyEncoder(
      schema.keyIndexes,
      schema.keyIndexes.map((i) => schema.fields[i]!.type),
    );
  }

  process(flow: Flow): Flow | undefined {
    const batch = flow.batch;
    const out = new BatchWriter(batch.schema, batch.length);
    const old = flow.old === undefined ? undefined : new BatchWriter(batch.schema, batch.length);
    const shards = new Uint32Array(batch.length);
    let rejected = 0;
    for (let row = 0; row < batch.length; row++) {
      let opcode = batch.opcodes[row]!;
      const key = this.keys.ofRow(batch, row);
      const entry = this.live.get(key);
      if (opcode === Opcode.Upsert) opcode = entry === undefined ? Opcode.Insert : Opcode.Update;
      if (opcode === Opcode.Insert && entry !== undefined) {
        this.reject(row, "insert of a key that is already live in the union", batch);
        rejected++;
        continue;
      }
      if (opcode !== Opcode.Insert && entry === undefined) {
        this.reject(row, "update or delete of a key that is not live in the union", batch);
        rejected++;
        continue;
      }
      const shard = entry?.shard ?? flow.shards.get(row);
      if (opcode === Opcode.Insert) {
        const values = rowValues(batch, row);
        this.live.set(key, { shard, key: batch.schema.keyIndexes.map((i) => values[i]) });
      } else if (opcode === Opcode.Delete) {
        this.live.delete(key);
      }
      this.context.markDirty(shard);
      shards[out.length] = shard;
      out.appendRow(batch, row, opcode);
      old?.appendRow(flow.old!, row, opcode);
    }
    if (out.length === 0) return undefined;
    if (rejected === 0 && !batch.opcodes.includes(Opcode.Upsert)) {
      return { batch, old: flow.old, shards: new ArrayShards(shards) };
    }
    const length = out.length;
    return { batch: out.finish(), old: old?.finish(), shards: new ArrayShards(shards.subarray(0, length)) };
  }

  private reject(row: number, reason: string, batch: Batch): void {
    this.context.badEvent(row, reason, batch);
  }

  snapshot(shard: number, out: ByteWriter): boolean {
    const count = this.live.countOf(shard);
    if (count === 0) return false;
    out.u32(count);
    for (const [, entry] of this.live.ofShard(shard)) out.values(entry.key as never);
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    const count = input.u32();
    for (let i = 0; i < count; i++) {
      const key = input.values();
      this.live.set(this.keys.ofValues(key), { shard, key });
    }
  }

  drop(shard: number): void {
    this.live.dropShard(shard);
  }

  shards(): Iterable<number> {
    return this.live.shards();
  }
}
