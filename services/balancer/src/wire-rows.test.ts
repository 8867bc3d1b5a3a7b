import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createSchemaCache, encodeBatch, hashRows, parseSchemaString, rowsToBatch } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { checkWireLayout, decodeKeys, keyLayout } from "./wire-rows.js";

const schema = parseSchemaString(
  "id*:int64,name:string,price:double,qty:int32,ok:boolean,at:stamp,cash:money,blob:blob,day:date",
);
const rows = Array.from({ length: 37 }, (_, i) => ({
  id: i % 2 === 0 ? i * 1000 : -i - 1,
  name: i % 4 === 0 ? null : `näme-${i}-${"x".repeat(i % 40)}`,
  price: i / 3,
  qty: i % 5 === 0 ? null : -i,
  ok: i % 2 === 0,
  at: 1_700_000_000_000_000 + i,
  cash: i + 0.25,
  blob: new Uint8Array([i, i + 1, i + 2]),
  day: 19_000 + i,
}));
const batch = rowsToBatch(
  schema,
  rows,
  rows.map((_, i) => (i % 3 === 0 ? "upsert" : "insert")),
);
// Through the wire and back, so the columns are unaligned views of one buffer, as on a server.
const message = fromBinary(
  pb.BatchSchema,
  toBinary(pb.BatchSchema, encodeBatch(batch, { window: "w", origin: { sourceId: "s", seq: 7 } })),
);

describe("wire row selection", () => {
  it("hashes rows from the key columns alone exactly as from the full batch", () => {
    const layout = keyLayout(schema, [1, 0]);
    const keys = decodeKeys(message, layout, createSchemaCache());
    expect(Array.from(hashRows(keys, [0, 1]))).toEqual(Array.from(hashRows(batch, [1, 0])));
  });

  it("rejects a column whose bytes do not match the count, naming the field", () => {
    const broken = {
      ...message,
      columns: message.columns.map((c, i) => (i === 2 ? { ...c, values: c.values.subarray(1) } : c)),
    };
    expect(() => checkWireLayout(broken, schema)).toThrow(/field "price"/);
  });
});
