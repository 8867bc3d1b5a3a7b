import { parseSchemaString } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { readEventRows } from "./event-rows.js";

const schema = parseSchemaString("id*:int64,name:string,ok:boolean,at:stamp,data:blob,amount:money");

function failure(run: () => unknown): MeshError {
  try {
    run();
  } catch (error) {
    if (error instanceof MeshError) return error;
    throw error;
  }
  throw new Error("expected a MeshError");
}

describe("readEventRows", () => {
  it("converts CSV cells by field type: booleans, integer and ISO stamps, base64 blobs, quoted text, empty as null", () => {
    const csv =
      'id,name,ok,at,data,amount\n1,"multi\nline",true,1700000000000000,AQID,12.5\n2,,0,2024-05-01T00:00:00Z,,\n';
    expect(readEventRows("csv", csv, schema, "w")).toEqual([
      {
        id: 1,
        name: "multi\nline",
        ok: true,
        at: 1700000000000000,
        data: new Uint8Array([1, 2, 3]),
        amount: 12.5,
        _opcode: "insert",
      },
      { id: 2, name: null, ok: false, at: "2024-05-01T00:00:00Z", data: null, amount: null, _opcode: "insert" },
    ]);
  });

  it("reports the row and its line for a CSV value that does not convert, and a short record", () => {
    const bad = failure(() => readEventRows("csv", "id,ok\n1,true\n2,maybe\n", schema, "w"));
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.details).toMatchObject({ window: "w", row: 2, line: 3, field: "ok" });
    expect(bad.message).toMatch(/^window "w", row 2 \(line 3\): field "ok": expected boolean/);
    const short = failure(() => readEventRows("csv", "id,name\n1\n", schema, "w"));
    expect(short.details).toMatchObject({ row: 1, line: 2 });
    expect(short.message).toContain("expected 2 columns");
  });

  it("decodes base64 blobs in JSON and applies the default opcode to rows that give none", () => {
    const rows = readEventRows(
      "json",
      [
        { id: 1, data: "AQID" },
        { id: 2, _opcode: "delete" },
      ],
      schema,
      "w",
      "upsert",
    );
    expect(rows).toEqual([
      { id: 1, data: new Uint8Array([1, 2, 3]), _opcode: "upsert" },
      { id: 2, _opcode: "delete" },
    ]);
  });

  it("refuses a row that is not an object, an unknown opcode and an unknown field, naming the 1-based row", () => {
    expect(failure(() => readEventRows("json", [{ id: 1 }, 5], schema, "w")).details).toMatchObject({ row: 2 });
    const opcode = failure(() => readEventRows("json", [{ id: 1, _opcode: "merge" }], schema, "w"));
    expect(opcode.details).toMatchObject({ row: 1, field: "_opcode" });
    const field = failure(() => readEventRows("ndjson", '{"id": 1}\n\n{"id": 2, "colour": "red"}', schema, "w"));
    expect(field.details).toMatchObject({ row: 2, line: 3, field: "colour" });
  });

  it("refuses an int64 beyond the safe range rather than losing precision", () => {
    const big = failure(() => readEventRows("ndjson", '{"id": 9007199254740993}', schema, "w"));
    expect(big.details).toMatchObject({ row: 1, field: "id" });
  });
});
