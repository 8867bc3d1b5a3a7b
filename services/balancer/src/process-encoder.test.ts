import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { batchToEvents, createSchemaCache, decodeBatch, encodeBatch, schemaToProto, selectRows } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { encodeProcessBatch } from "./process-encoder.js";
import { allTypesBatch, allTypesRows, allTypesSchema } from "./test/wire-fixture.js";
import { checkWireLayout } from "./wire-rows.js";

const schema = allTypesSchema;
const _rows = allTypesRows;
const batch = allTypesBatch;
const published = encodeBatch(batch, { window: "w", origin: { sourceId: "söurce", seq: 7 } });
published.traceContext = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "" };
// Through the wire and back, so the columns are unaligned views of one Node Buffer, as on a
// server; without its schema, as a publisher sends all but its first batch.
const wire = toBinary(pb.BatchSchema, { ...published, schema: undefined });
const pool = Buffer.alloc(wire.byteLength + 3);
pool.set(wire, 3);
const message = fromBinary(pb.BatchSchema, pool.subarray(3));

function generic(seq: number, batchMessage: pb.Batch): Uint8Array {
  return toBinary(
    pb.ProcessRequestSchema,
    create(pb.ProcessRequestSchema, { kind: { case: "batch", value: { seq: BigInt(seq), batch: batchMessage } } }),
  );
}

function decoded(bytes: Uint8Array): { seq: bigint; batch: pb.Batch } {
  // A plain copy: the encoder may hand out a Node Buffer, whose views would decode blobs as Buffers.
  const request = fromBinary(pb.ProcessRequestSchema, Uint8Array.from(bytes));
  if (request.kind.case !== "batch" || request.kind.value.batch === undefined) throw new Error("not a batch");
  return { seq: request.kind.value.seq, batch: request.kind.value.batch };
}

describe("process batch encoding", () => {
  it("writes a whole batch byte for byte as the protobuf writer does, with or without the schema", () => {
    checkWireLayout(message, schema);
    const plain = encodeProcessBatch({
      seq: 12,
      message,
      fields: schema,
      rows: undefined,
      count: 37,
      schema: undefined,
    });
    expect(Buffer.from(plain).equals(Buffer.from(generic(12, message)))).toBe(true);
    const schemaBytes = toBinary(pb.SchemaSchema, schemaToProto(schema));
    const first = encodeProcessBatch({
      seq: 1,
      message,
      fields: schema,
      rows: undefined,
      count: 37,
      schema: schemaBytes,
    });
    const withSchema = { ...message, schema: schemaToProto(schema) };
    expect(Buffer.from(first).equals(Buffer.from(generic(1, withSchema)))).toBe(true);
  });

  it("cuts the same events as decoding, selecting and encoding again, keeping origin and trace context", () => {
    checkWireLayout(message, schema);
    const selection = Uint32Array.of(0, 3, 4, 8, 17, 36);
    const bytes = encodeProcessBatch({ seq: 3, message, fields: schema, rows: selection, count: 6, schema: undefined });
    const { seq, batch: cut } = decoded(bytes);
    expect(seq).toBe(3n);
    expect(cut.origin?.sourceId).toBe("söurce");
    expect(cut.origin?.seq).toBe(7n);
    expect(cut.traceContext).toEqual(message.traceContext);
    expect(cut.schema).toBeUndefined();
    const cache = createSchemaCache();
    cache.add(schema);
    expect(batchToEvents(decodeBatch(cut, cache))).toEqual(batchToEvents(selectRows(batch, selection)));
  });

  it("drops a null bitmap no selected row needs, and writes one that is", () => {
    const noNulls = Uint32Array.of(1, 2, 3);
    const { batch: cut } = decoded(
      encodeProcessBatch({ seq: 4, message, fields: schema, rows: noNulls, count: 3, schema: undefined }),
    );
    expect(cut.columns[1]?.nulls.byteLength).toBe(0);
    const withNull = Uint32Array.of(1, 4);
    const { batch: other } = decoded(
      encodeProcessBatch({ seq: 5, message, fields: schema, rows: withNull, count: 2, schema: undefined }),
    );
    expect(other.columns[1]?.nulls.byteLength).toBe(1);
    const cache = createSchemaCache();
    cache.add(schema);
    expect(batchToEvents(decodeBatch(other, cache))).toEqual(batchToEvents(selectRows(batch, withNull)));
  });

  it("writes origin sequence numbers above 2^53 exactly", () => {
    const big = { ...message, origin: create(pb.OriginSchema, { sourceId: "s", seq: 2n ** 63n + 5n }) };
    const bytes = encodeProcessBatch({
      seq: 9,
      message: big,
      fields: schema,
      rows: undefined,
      count: 37,
      schema: undefined,
    });
    expect(Buffer.from(bytes).equals(Buffer.from(generic(9, big)))).toBe(true);
    expect(decoded(bytes).batch.origin?.seq).toBe(2n ** 63n + 5n);
  });
});
