import { describe, expect, it } from "vitest";
import { encodeBatch, hashRows, hashWireRows, parseSchemaString, rowsToBatch } from "./index.js";

describe("key hash from wire bytes", () => {
  it("equals the hash of the decoded rows for int32, int64, date, stamp and ASCII string keys, nulls included", () => {
    const schema = parseSchemaString("sym*:string,id*:int64,n*:int32,d*:date,t*:stamp,v:double");
    const rows = [
      { sym: "IBM", id: 1, n: 3, d: 0, t: 1 },
      { sym: "", id: 0, n: -1, d: 86_400, t: -1 },
      { sym: "abcde", id: -5, n: null, d: null, t: 123_456_789 },
      { sym: null, id: 9_007_199_254_740_991, n: 2_147_483_647, d: 5, t: null },
      { sym: "x", id: -9_007_199_254_740_991, n: -2_147_483_648, d: -5, t: 0 },
      { sym: "ab", id: 4_294_967_296, n: 0, d: 1, t: 2 },
    ];
    const batch = rowsToBatch(schema, rows);
    const message = encodeBatch(batch, { window: "w" });
    const types = schema.fields.slice(0, 5).map((field) => field.type);
    const hashes = hashWireRows(message.columns.slice(0, 5), types, rows.length);
    expect(Array.from(hashes ?? [])).toEqual(Array.from(hashRows(batch, [0, 1, 2, 3, 4])));
    const idOnly = hashWireRows([message.columns[1]!], ["int64"], rows.length);
    expect(Array.from(idOnly ?? [])).toEqual(Array.from(hashRows(batch, [1])));
  });

  it("leaves non-ASCII strings, other key types and unsafe int64 values to the decoder", () => {
    const schema = parseSchemaString("sym*:string,v*:double");
    const message = encodeBatch(rowsToBatch(schema, [{ sym: "東京", v: 1.5 }]), { window: "w" });
    expect(hashWireRows([message.columns[0]!], ["string"], 1)).toBeUndefined();
    expect(hashWireRows([message.columns[1]!], ["double"], 1)).toBeUndefined();
    const unsafe = new Uint8Array([0, 0, 0, 0, 0, 0, 0x20, 0]); // 2^53
    expect(
      hashWireRows([{ values: unsafe, lengths: new Uint8Array(0), nulls: new Uint8Array(0) }], ["int64"], 1),
    ).toBeUndefined();
  });
});
