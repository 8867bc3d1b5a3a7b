import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createSchemaCache, encodeBatch, hashRows } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { allTypesBatch, allTypesRows, allTypesSchema } from "./test/wire-fixture.js";
import { checkWireLayout, decodeKeys, keyLayout } from "./wire-rows.js";

const schema = allTypesSchema;
const _rows = allTypesRows;
const batch = allTypesBatch;
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
