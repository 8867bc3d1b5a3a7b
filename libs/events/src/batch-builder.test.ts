import { describe, expect, it } from "vitest";
import { batchToEvents, batchToRows, createBatchBuilder, Opcode, parseSchemaString, rowsToBatch } from "./index.js";

const schema = parseSchemaString(
  "id*:int64,qty:int32,price:double,cost:money,name:string,day:date,at:stamp,ok:boolean,raw:blob",
);

function thrown(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error("expected an error");
}

describe("batch builder", () => {
  it("builds a batch whose rows and opcodes read back as appended", () => {
    const builder = createBatchBuilder(schema, 1);
    builder.append({
      id: 1,
      qty: 2,
      price: 1.5,
      cost: 9.99,
      name: "a",
      day: 19000,
      at: 5,
      ok: true,
      raw: new Uint8Array([1]),
    });
    builder.append({ id: 2 }, Opcode.Delete);
    builder.appendValues([3, null, null, null, "c", null, null, false, null], Opcode.Upsert);
    expect(builder.length).toBe(3);
    const batch = builder.seal();
    expect(builder.length).toBe(0);
    expect(batch.length).toBe(3);
    expect(Array.from(batch.opcodes)).toEqual([Opcode.Insert, Opcode.Delete, Opcode.Upsert]);
    const rows = batchToRows(batch);
    expect(rows[0]).toEqual({
      id: 1,
      qty: 2,
      price: 1.5,
      cost: 9.99,
      name: "a",
      day: 19000,
      at: 5,
      ok: true,
      raw: new Uint8Array([1]),
    });
    expect(rows[1]).toEqual({
      id: 2,
      qty: null,
      price: null,
      cost: null,
      name: null,
      day: null,
      at: null,
      ok: null,
      raw: null,
    });
    expect(rows[2]?.ok).toBe(false);
    expect(batchToEvents(batch).map((e) => e.opcode)).toEqual(["insert", "delete", "upsert"]);
  });

  it("is reusable after seal and empty after reset", () => {
    const builder = createBatchBuilder(schema);
    builder.append({ id: 1 });
    const first = builder.seal();
    builder.append({ id: 2, name: "x" });
    builder.append({ id: 3 });
    builder.reset();
    builder.append({ id: 4 });
    const second = builder.seal();
    expect(batchToRows(first).map((r) => r.id)).toEqual([1]);
    expect(batchToRows(second).map((r) => [r.id, r.name])).toEqual([[4, null]]);
  });

  it("coerces stamps, dates, money and bigints as documented", () => {
    const batch = rowsToBatch(schema, [
      { id: 10n as never, at: "2024-05-01T12:00:00.123456Z", day: "2024-05-01", cost: 1.23456789 },
      { id: 1, at: new Date(Date.UTC(2024, 4, 1)), day: new Date(Date.UTC(2024, 4, 1, 23, 59, 59)) },
      { id: 2, at: "2024-05-01 14:00+02:00", day: "2024-05-01T10:00:00" },
    ]);
    const rows = batchToRows(batch);
    const may1 = Date.UTC(2024, 4, 1);
    expect(rows[0]).toMatchObject({
      id: 10,
      at: (may1 + 12 * 3600_000) * 1000 + 123456,
      day: may1 / 1000,
      cost: 1.234568,
    });
    expect(rows[1]).toMatchObject({ at: may1 * 1000, day: may1 / 1000 + 86399 });
    expect(rows[2]).toMatchObject({ at: (may1 + 12 * 3600_000) * 1000, day: may1 / 1000 + 36000 });
  });

  it("rejects a wrong-typed value naming the field and the row", () => {
    const builder = createBatchBuilder(schema);
    builder.append({ id: 1 });
    builder.append({ id: 2 });
    builder.append({ id: 3 });
    const error = thrown(() => builder.append({ id: 4, price: "abc" as never }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe('row 3, field "price": expected double (a number), got "abc"');
    expect(error.details).toEqual({ field: "price", row: 3 });
    expect(builder.length).toBe(3);
  });

  it.each([
    ["id", 2 ** 53, "int64"],
    ["id", 1.5, "int64"],
    ["id", "12", "int64"],
    ["qty", 2 ** 31, "int32"],
    ["qty", 0.5, "int32"],
    ["cost", Number.POSITIVE_INFINITY, "money"],
    ["cost", 1e10, "money"],
    ["name", 5, "string"],
    ["day", "yesterday", "date"],
    ["at", "2024-13-01T00:00:00Z", "stamp"],
    ["at", new Date(Number.NaN), "stamp"],
    ["ok", 1, "boolean"],
    ["raw", "bytes", "blob"],
  ])("rejects %s = %s as not a valid %s", (field, value, type) => {
    const error = thrown(() => rowsToBatch(schema, [{ id: 1 }, { id: 2, [field]: value as never }]));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(new RegExp(`^row 1, field "${field}": expected ${type}\\b`));
    expect(error.details).toEqual({ field, row: 1 });
  });

  it("rejects a field the schema does not have, and a bad opcode", () => {
    const unknown = thrown(() => rowsToBatch(schema, [{ id: 1, prise: 3 }]));
    expect(unknown.message).toBe('row 0, field "prise": no such field in the schema');
    expect(unknown.details).toEqual({ field: "prise", row: 0 });
    expect(thrown(() => rowsToBatch(schema, [{ id: 1 }], ["insert-ish" as never])).details).toEqual({ row: 0 });
    expect(thrown(() => createBatchBuilder(schema).append({ id: 1 }, 9 as never)).code).toBe("INVALID_ARGUMENT");
  });

  it("leaves no trace of a rejected row", () => {
    const builder = createBatchBuilder(schema, 2);
    builder.append({ id: 1, name: "kept" });
    expect(() => builder.append({ id: 2, name: null, qty: "x" as never })).toThrow();
    builder.append({ id: 3, name: "next" });
    const rows = batchToRows(builder.seal());
    expect(rows.map((r) => [r.id, r.name])).toEqual([
      [1, "kept"],
      [3, "next"],
    ]);
    expect(rows[1]?.qty).toBeNull();
  });

  it("accepts per-row opcodes by name or number", () => {
    const batch = rowsToBatch(schema, [{ id: 1 }, { id: 2 }, { id: 3 }], ["upsert", Opcode.Update, "delete"]);
    expect(Array.from(batch.opcodes)).toEqual([Opcode.Upsert, Opcode.Update, Opcode.Delete]);
  });

  it("grows past its initial capacity", () => {
    const builder = createBatchBuilder(schema, 0);
    for (let i = 0; i < 100; i++) builder.append({ id: i, name: `n${i}`, qty: i % 3 === 0 ? null : i });
    const rows = batchToRows(builder.seal());
    expect(rows).toHaveLength(100);
    expect(rows[99]).toMatchObject({ id: 99, name: "n99", qty: null });
    expect(rows[98]).toMatchObject({ id: 98, name: "n98", qty: 98 });
  });
});
