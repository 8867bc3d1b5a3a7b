import { create, toBinary } from "@bufbuild/protobuf";
import { batchToEvents, encodeBatch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import { BatchSchema } from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { BATCH_CONTENT_TYPE } from "./content-type.js";
import { createInputDecoder } from "./input-decoder.js";

const schema = parseSchemaString("id*:int64,symbol:string,price:double");
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("createInputDecoder", () => {
  const decoder = createInputDecoder(schema, "trades");

  it("reads one JSON object as a one-row insert batch, with or without a content type", () => {
    for (const type of [undefined, "application/json", "Application/JSON; charset=utf-8"]) {
      const decoded = decoder.decode(type, json({ id: 1, symbol: "IBM", price: 10.5 }));
      expect(decoded.ok).toBe(true);
      if (decoded.ok) {
        expect(batchToEvents(decoded.batch)).toEqual([
          { opcode: "insert", fields: { id: 1, symbol: "IBM", price: 10.5 } },
        ]);
      }
    }
  });

  it("reads a JSON array with per-row _opcode names or numbers", () => {
    const decoded = decoder.decode(
      "application/json",
      json([
        { id: 1, symbol: "A", price: 1, _opcode: "upsert" },
        { id: 2, symbol: "B", price: 2, _opcode: 3 },
        { id: 3, symbol: "C", price: 3 },
      ]),
    );
    expect(decoded.ok && batchToEvents(decoded.batch).map((event) => event.opcode)).toEqual([
      "upsert",
      "delete",
      "insert",
    ]);
  });

  it("rejects unparsable JSON, a non-object row, a bad value and a bad opcode, naming the row", () => {
    const cases: [unknown, string, RegExp][] = [
      ["{not json", "json", /does not parse/],
      [[{ id: 1 }, 7], "rows", /row 1: expected an object/],
      [[{ id: 1 }, { id: "x" }], "rows", /row 1/],
      [[{ id: 1, _opcode: "merge" }], "rows", /row 0: invalid opcode/],
      [[{ id: 1, volume: 3 }], "rows", /volume/],
    ];
    for (const [payload, reason, message] of cases) {
      const data = typeof payload === "string" ? new TextEncoder().encode(payload) : json(payload);
      const decoded = decoder.decode(undefined, data);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.reason).toBe(reason);
        expect(decoded.error.code).toBe("INVALID_ARGUMENT");
        expect(decoded.error.message).toMatch(message);
      }
    }
  });

  it("reads a columnar batch of its schema and rejects one of another schema or malformed bytes", () => {
    const batch = rowsToBatch(schema, [{ id: 7, symbol: "X", price: 2.5 }]);
    const bytes = toBinary(BatchSchema, encodeBatch(batch, { window: "out" }));
    const decoded = decoder.decode(BATCH_CONTENT_TYPE, bytes);
    expect(decoded.ok && batchToEvents(decoded.batch)).toEqual([
      { opcode: "insert", fields: { id: 7, symbol: "X", price: 2.5 } },
    ]);

    const other = parseSchemaString("id*:int64,name:string");
    const foreign = toBinary(BatchSchema, encodeBatch(rowsToBatch(other, [{ id: 1, name: "n" }]), { window: "out" }));
    const wrong = decoder.decode(BATCH_CONTENT_TYPE, foreign);
    expect(!wrong.ok && wrong.reason).toBe("schema");

    const truncated = toBinary(
      BatchSchema,
      create(BatchSchema, { window: "out", count: 2, opcodes: new Uint8Array([1]) }),
    );
    const malformed = decoder.decode(BATCH_CONTENT_TYPE, truncated);
    expect(!malformed.ok && malformed.reason).toBe("batch");
  });

  it("rejects an unknown content type", () => {
    const decoded = decoder.decode("text/csv", new TextEncoder().encode("1,IBM,3"));
    expect(!decoded.ok && decoded.reason).toBe("content_type");
  });
});
