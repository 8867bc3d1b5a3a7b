import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import {
  batchToEvents,
  batchToRows,
  createSchemaCache,
  decodeBatch,
  emptyBatch,
  encodeBatch,
  Opcode,
  opcodeName,
  opcodeOf,
  parseSchemaString,
  type Row,
  rowsToBatch,
} from "./index.js";

const schema = parseSchemaString(
  "id*:int64,qty:int32,price:double,cost:money,name:string,day:date,at:stamp,ok:boolean,raw:blob",
);

const rows: Row[] = [
  {
    id: 9_007_199_254_740_991,
    qty: -2_147_483_648,
    price: -0.1,
    cost: 12.345678,
    name: "plain",
    day: 19_844,
    at: 1_714_564_800_123_456,
    ok: true,
    raw: new Uint8Array([0, 255, 7]),
  },
  {
    id: -9_007_199_254_740_991,
    qty: 2_147_483_647,
    price: Number.NaN,
    cost: -0.000001,
    name: "",
    day: -1,
    at: -1,
    ok: false,
    raw: new Uint8Array(0),
  },
  { id: null, qty: null, price: null, cost: null, name: null, day: null, at: null, ok: null, raw: null },
  {
    id: 0,
    qty: 0,
    price: Number.POSITIVE_INFINITY,
    cost: 8_999_999_999.999998,
    name: "grüße, 東京 🚀 \u{feff}",
    day: 0,
    at: 0,
    ok: false,
    raw: new Uint8Array(300).fill(3),
  },
  { id: 42, qty: 7, price: 1e308, cost: 0, name: null, day: null, at: 5, ok: null, raw: null },
];

/** row -> column -> bytes (toBinary) -> column -> row. */
function roundTrip(input: Row[], opcodes?: Opcode[]) {
  const batch = rowsToBatch(schema, input, opcodes);
  const bytes = toBinary(pb.BatchSchema, encodeBatch(batch, { window: "w", origin: { sourceId: "s", seq: 3 } }));
  const message = fromBinary(pb.BatchSchema, bytes);
  return { batch, message, decoded: decodeBatch(message) };
}

describe("wire codec", () => {
  it("round-trips every field type, nulls included, through bytes", () => {
    const opcodes = [Opcode.Insert, Opcode.Update, Opcode.Delete, Opcode.Upsert, Opcode.Insert];
    const { decoded, message } = roundTrip(rows, opcodes);
    expect(batchToRows(decoded)).toEqual(rows);
    expect(batchToEvents(decoded).map((e) => e.opcode)).toEqual(["insert", "update", "delete", "upsert", "insert"]);
    expect(message.window).toBe("w");
    expect(message.origin?.sourceId).toBe("s");
    expect(message.origin?.seq).toBe(3n);
    expect(message.schemaFingerprint).toBe(schema.fingerprint);
  });

  it("round-trips money values of every magnitude exactly", () => {
    const input: Row[] = [];
    for (let i = 0; i < 2000; i++) {
      const magnitude = 10 ** ((i % 16) - 6);
      input.push({ id: i, cost: (((i * 7919) % 10007) / 10007 - 0.5) * magnitude * 18 });
    }
    const { batch, decoded } = roundTrip(input);
    expect(Array.from(decoded.columns[3]?.values as Float64Array)).toEqual(
      Array.from(batch.columns[3]?.values as Float64Array),
    );
    // Coercion is idempotent: the rows read back build the same batch again.
    expect(batchToRows(rowsToBatch(schema, batchToRows(decoded)))).toEqual(batchToRows(decoded));
  });

  it("round-trips an empty batch", () => {
    const { decoded, message } = roundTrip([]);
    expect(message.count).toBe(0);
    expect(decoded.length).toBe(0);
    expect(batchToRows(decoded)).toEqual([]);
    const empty = decodeBatch(
      fromBinary(pb.BatchSchema, toBinary(pb.BatchSchema, encodeBatch(emptyBatch(schema), { window: "w" }))),
    );
    expect(empty.length).toBe(0);
    expect(empty.columns).toHaveLength(schema.fields.length);
  });

  it("round-trips non-ASCII strings at any position, and many rows", () => {
    const names = ["a", "é", "", "東京", "🚀x", "x🚀", "\u{feff}bom", "ascii only", "ü".repeat(100)];
    const input = Array.from({ length: 500 }, (_, i) => ({ id: i, name: names[i % names.length] ?? null }));
    const { decoded } = roundTrip(input);
    expect(batchToRows(decoded).map((r) => r.name)).toEqual(input.map((r) => r.name));
  });

  it("writes the documented layout: little-endian fixed widths, money in micro-units, lengths, LSB-first nulls", () => {
    const small = parseSchemaString("n:int32,m:money,s:string,b:boolean");
    const batch = rowsToBatch(small, [
      { n: 1, m: 1.5, s: "hé", b: true },
      { n: -2, m: null, s: "x", b: false },
    ]);
    const message = encodeBatch(batch, { window: "w", includeSchema: false });
    expect(message.schema).toBeUndefined();
    expect(Array.from(message.opcodes)).toEqual([1, 1]);
    const [n, m, s, b] = message.columns;
    expect(Array.from(n?.values ?? [])).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    expect(n?.nulls.length).toBe(0);
    expect(Array.from(m?.values ?? [])).toEqual([0x60, 0xe3, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(m?.nulls ?? [])).toEqual([0b10]);
    expect(Array.from(s?.values ?? [])).toEqual([0x68, 0xc3, 0xa9, 0x78]);
    expect(Array.from(s?.lengths ?? [])).toEqual([3, 0, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(b?.values ?? [])).toEqual([1, 0]);
  });

  it("decodes columns that sit at unaligned offsets of a larger buffer", () => {
    const batch = rowsToBatch(schema, rows);
    const bytes = toBinary(pb.BatchSchema, encodeBatch(batch, { window: "w" }));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const decoded = decodeBatch(fromBinary(pb.BatchSchema, shifted.subarray(3)));
    expect(batchToRows(decoded)).toEqual(rows);
  });

  it("takes the schema from the cache by fingerprint once a stream has sent it", () => {
    const batch = rowsToBatch(schema, rows.slice(0, 2));
    const cache = createSchemaCache();
    const first = decodeBatch(encodeBatch(batch, { window: "w" }), cache);
    const later = decodeBatch(encodeBatch(batch, { window: "w", includeSchema: false }), cache);
    expect(later.schema).toBe(first.schema);
    expect(batchToRows(later)).toEqual(rows.slice(0, 2));
  });

  it("fails with FAILED_PRECONDITION when the schema was never sent", () => {
    const message = encodeBatch(rowsToBatch(schema, rows.slice(0, 1)), { window: "trades", includeSchema: false });
    expect(() => decodeBatch(message, createSchemaCache())).toThrow(
      expect.objectContaining({ code: "FAILED_PRECONDITION", details: { window: "trades" } }),
    );
  });

  it("rejects malformed messages naming the window and the field", () => {
    const good = () => encodeBatch(rowsToBatch(schema, rows.slice(0, 2)), { window: "w" });
    const shortColumn = good();
    shortColumn.columns[2] = create(pb.ColumnSchema, { values: new Uint8Array(3) });
    expect(() => decodeBatch(shortColumn)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", details: { window: "w", field: "price" } }),
    );
    const badOpcodes = good();
    badOpcodes.opcodes = new Uint8Array([1, 9]);
    expect(() => decodeBatch(badOpcodes)).toThrow(expect.objectContaining({ details: { window: "w", row: 1 } }));
    const badUtf8 = good();
    badUtf8.columns[4] = create(pb.ColumnSchema, {
      values: new Uint8Array([0xff]),
      lengths: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
    });
    expect(() => decodeBatch(badUtf8)).toThrow(expect.objectContaining({ details: { window: "w", field: "name" } }));
    const wrongFingerprint = good();
    wrongFingerprint.schemaFingerprint = "0000000000000000";
    expect(() => decodeBatch(wrongFingerprint)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("rejects an int64 on the wire that is not a safe integer, naming field and row", () => {
    const message = encodeBatch(rowsToBatch(schema, rows.slice(0, 2)), { window: "w" });
    const values = new Uint8Array(16);
    values.set([0, 0, 0, 0, 0, 0, 0x20, 0], 8); // 2^53 in row 1
    message.columns[0] = create(pb.ColumnSchema, { values });
    expect(() => decodeBatch(message)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", details: { window: "w", field: "id", row: 1 } }),
    );
  });

  it("holds the type's zero in null slots after decoding, whatever the sender wrote there", () => {
    const message = encodeBatch(rowsToBatch(schema, rows.slice(0, 1)), { window: "w" });
    message.columns[1] = create(pb.ColumnSchema, { values: new Uint8Array([5, 0, 0, 0]), nulls: new Uint8Array([1]) });
    const decoded = decodeBatch(message);
    expect(decoded.columns[1]?.values[0]).toBe(0);
    expect(batchToRows(decoded)[0]?.qty).toBeNull();
  });
});

describe("opcodes", () => {
  it("map between numbers and names", () => {
    expect([1, 2, 3, 4].map(opcodeName)).toEqual(["insert", "update", "delete", "upsert"]);
    expect(["insert", "UPDATE", "d", "p"].map(opcodeOf)).toEqual([1, 2, 3, 4]);
    expect(() => opcodeName(0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => opcodeOf("merge")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
