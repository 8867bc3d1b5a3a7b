import { batchToEvents, createBatchBuilder, Opcode } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { loadProject } from "../model/load-project.js";
import { createEngine } from "./engine.js";

const PROJECT = `
name: p
windows:
  - { name: src, kind: source, schema: "id*:int64,sym:string,qty:int32" }
  - { name: f, kind: filter, inputs: [src], expression: "qty > 0" }
`;

describe("createEngine", () => {
  it("rejects routing fields that are not fields of a source window", () => {
    const model = loadProject(PROJECT);
    expect(() => createEngine(model, { routing: { src: ["nope"] } })).toThrow(
      /routing: "nope" is not a field of window "src"/,
    );
    expect(() => createEngine(model, { routing: { f: ["qty"] } })).toThrow(/"f" is not a source window/);
    expect(() => createEngine(model, { shardCount: 0 })).toThrow(/shardCount/);
  });

  it("computes shards from the routing key, by default the key fields", () => {
    const model = loadProject(PROJECT);
    const builder = createBatchBuilder(model.window("src")!.schema, 2);
    builder.append({ id: 1, sym: "A", qty: 1 });
    builder.append({ id: 2, sym: "A", qty: 1 });
    const batch = builder.seal();
    const byKey = createEngine(model, { shardCount: 1024 });
    const bySym = createEngine(model, { shardCount: 1024, routing: { src: ["sym"] } });
    expect(byKey.shardsOf("src", batch)[0]).not.toBe(byKey.shardsOf("src", batch)[1]);
    expect(bySym.shardOf("src", batch, 0)).toBe(bySym.shardOf("src", batch, 1));
  });

  it("counts and reports bad events with window, row and reason", () => {
    const seen: string[] = [];
    const model = loadProject(PROJECT);
    const engine = createEngine(model, {
      onBadEvent: (event) => seen.push(`${event.window}:${event.row}:${event.reason}`),
    });
    const builder = createBatchBuilder(model.window("src")!.schema, 2);
    builder.append({ id: 1, sym: "A", qty: 1 });
    builder.append({ id: 2, sym: "B", qty: 1 }, Opcode.Delete);
    const out = engine.process("src", builder.seal());
    expect(batchToEvents(out.get("f")!)).toEqual([{ opcode: "insert", fields: { id: 1, sym: "A", qty: 1 } }]);
    expect(engine.badEvents.total).toBe(1);
    expect(engine.badEvents.byWindow.get("src")).toBe(1);
    expect(engine.badEvents.recent[0]).toMatchObject({ window: "src", row: 1, key: [2] });
    expect(seen).toEqual(["src:1:delete of a key that does not exist"]);
  });

  it("refuses batches for unknown or non-source windows and of another schema", () => {
    const model = loadProject(PROJECT);
    const engine = createEngine(model);
    const batch = createBatchBuilder(model.window("src")!.schema, 1).seal();
    expect(() => engine.process("nope", batch)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    expect(() => engine.process("f", batch)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    const other = loadProject("name: q\nwindows:\n  - { name: src, kind: source, schema: 'id*:int32' }\n");
    expect(() => engine.process("src", createBatchBuilder(other.window("src")!.schema, 1).seal())).toThrow(
      /does not match/,
    );
    expect(() => engine.query("f")).toThrow(expect.objectContaining({ code: "FAILED_PRECONDITION" }));
  });

  it("returns the shard of every emitted event with processWithShards, the same outputs as process", () => {
    const model = loadProject(
      `${PROJECT}  - { name: t, kind: aggregate, inputs: [f], schema: "sym*:string,n:int64", fields: { n: "ESP_aCount()" } }\n`,
    );
    const options = { shardCount: 64, routing: { src: ["sym"] } };
    const builder = createBatchBuilder(model.window("src")!.schema, 4);
    builder.append({ id: 1, sym: "A", qty: 1 });
    builder.append({ id: 2, sym: "B", qty: 0 });
    builder.append({ id: 3, sym: "C", qty: 5 });
    builder.append({ id: 4, sym: "A", qty: 2 });
    const batch = builder.seal();
    const engine = createEngine(model, options);
    const shards = engine.shardsOf("src", batch);
    const out = engine.processWithShards("src", batch);
    expect(batchToEvents(out.get("f")!.batch).map((event) => event.fields.id)).toEqual([1, 3, 4]);
    expect([...out.get("f")!.shards]).toEqual([shards[0], shards[2], shards[3]]);
    const groups = batchToEvents(out.get("t")!.batch).map((event) => event.fields.sym);
    expect([...out.get("t")!.shards]).toEqual(groups.map((sym) => shards[sym === "A" ? 0 : 2]));
    const plain = createEngine(model, options).process("src", batch);
    expect(batchToEvents(plain.get("f")!)).toEqual(batchToEvents(out.get("f")!.batch));
    expect(engine.advanceWithShards(1).size).toBe(0);
  });
});
