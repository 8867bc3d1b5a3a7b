import { describe, expect, it } from "vitest";
import { batchToRows, concatBatches, emptyBatch, Opcode, parseSchemaString, rowsToBatch, selectRows } from "./index.js";

const schema = parseSchemaString("id*:int64,name:string,qty:int32,ok:boolean,raw:blob");
const rows = Array.from({ length: 20 }, (_, i) => ({
  id: i,
  name: i % 4 === 0 ? null : `n${i}`,
  qty: i % 3 === 0 ? null : i * 10,
  ok: i % 2 === 0,
  raw: new Uint8Array([i]),
}));
const opcodes = rows.map((_, i) => (i % 2 === 0 ? Opcode.Insert : Opcode.Upsert));
const batch = rowsToBatch(schema, rows, opcodes);

describe("selectRows", () => {
  it("copies the selected rows, nulls and opcodes in selection order", () => {
    const selection = new Uint32Array([19, 0, 3, 3, 8]);
    const selected = selectRows(batch, selection);
    expect(selected.length).toBe(5);
    expect(batchToRows(selected)).toEqual([19, 0, 3, 3, 8].map((i) => rows[i]));
    expect(Array.from(selected.opcodes)).toEqual([19, 0, 3, 3, 8].map((i) => opcodes[i]));
  });

  it("uses only the first count entries and leaves nulls undefined when none is selected", () => {
    const selected = selectRows(batch, new Uint32Array([1, 2, 0, 0]), 2);
    expect(batchToRows(selected).map((r) => r.id)).toEqual([1, 2]);
    expect(selected.columns[1]?.nulls).toBeUndefined();
    expect(selectRows(batch, new Uint32Array(0)).length).toBe(0);
  });

  it("shares no storage with the input batch", () => {
    const selected = selectRows(batch, new Uint32Array([1]));
    (selected.columns[2]?.values as Int32Array)[0] = -1;
    expect(batchToRows(batch)[1]?.qty).toBe(10);
  });

  it("rejects a row index outside the batch", () => {
    expect(() => selectRows(batch, new Uint32Array([0, 20]))).toThrow(
      expect.objectContaining({ code: "OUT_OF_RANGE" }),
    );
    expect(() => selectRows(batch, new Uint32Array([0]), 2)).toThrow(expect.objectContaining({ code: "OUT_OF_RANGE" }));
  });
});

describe("concatBatches", () => {
  it("joins batches in order with their nulls and opcodes", () => {
    const a = selectRows(batch, new Uint32Array([0, 1, 2]));
    const b = selectRows(batch, new Uint32Array([3, 4, 5, 6, 7, 8, 9, 10, 11]));
    const c = selectRows(batch, new Uint32Array([12]));
    const joined = concatBatches(schema, [a, emptyBatch(schema), b, c]);
    expect(joined.length).toBe(13);
    expect(batchToRows(joined)).toEqual(rows.slice(0, 13));
    expect(Array.from(joined.opcodes)).toEqual(opcodes.slice(0, 13));
  });

  it("gives an empty batch for no input and rejects another schema", () => {
    expect(concatBatches(schema, []).length).toBe(0);
    const other = rowsToBatch(parseSchemaString("id*:int64"), [{ id: 1 }]);
    expect(() => concatBatches(schema, [batch, other])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
