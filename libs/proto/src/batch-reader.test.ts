import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import {
  readProcessRequest,
  readPublishRequest,
  tryReadProcessRequest,
  tryReadPublishRequest,
} from "./batch-reader.js";
import { BatchSchema, FieldType } from "./gen/espmesh/v1/events_pb.js";
import { PublishRequestSchema } from "./gen/espmesh/v1/ingest_pb.js";
import { ProcessRequestSchema } from "./gen/espmesh/v1/worker_pb.js";
import { random, randomBatch } from "./testing/random-batch.js";

/** Bytes as grpc-js hands them to a reader. */
const received = (bytes: Uint8Array) => Buffer.from(bytes);

describe("PublishRequest reader", () => {
  it("reads 300 random requests exactly as protobuf-es does, in one pass", () => {
    const next = random(7);
    for (let i = 0; i < 300; i++) {
      const request = create(PublishRequestSchema, {
        project: next() < 0.8 ? `orders-${i % 2}` : "",
        ...(next() < 0.9 ? { batch: randomBatch(next, i) } : {}),
        coalesceAcks: next() < 0.5,
      });
      const bytes = received(toBinary(PublishRequestSchema, request));
      const expected = fromBinary(PublishRequestSchema, bytes);
      expect(tryReadPublishRequest(bytes), `request ${i}`).toEqual(expected);
      expect(readPublishRequest(bytes)).toEqual(expected);
    }
  });

  it("leaves what it does not read in one pass to protobuf-es: unknown fields, a repeated batch, a seq past 2^53", () => {
    const batch = toBinary(BatchSchema, randomBatch(random(3), 1));
    const unknownField = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string("p")
      .tag(9, WireType.Varint)
      .uint32(5);
    const twoBatches = new BinaryWriter()
      .tag(2, WireType.LengthDelimited)
      .bytes(batch)
      .tag(2, WireType.LengthDelimited)
      .bytes(toBinary(BatchSchema, create(BatchSchema, { window: "second", count: 0 })));
    const bigSeq = toBinary(
      PublishRequestSchema,
      create(PublishRequestSchema, { batch: { origin: { sourceId: "s", seq: 2n ** 60n } } }),
    );
    for (const bytes of [unknownField.finish(), twoBatches.finish(), bigSeq].map(received)) {
      expect(tryReadPublishRequest(bytes)).toBeUndefined();
      expect(readPublishRequest(bytes)).toEqual(fromBinary(PublishRequestSchema, bytes));
    }
    expect(readPublishRequest(received(bigSeq)).batch?.origin?.seq).toBe(2n ** 60n);
  });

  it("reads a schema repeated on every batch, and a changed one", () => {
    const schemas = [
      { fields: [{ name: "id", type: FieldType.INT64, key: true }] },
      { fields: [{ name: "id", type: FieldType.INT64, key: true }] },
      { fields: [{ name: "id", type: FieldType.INT32, key: true }, { name: "v" }] },
      { fields: [{ name: "id", type: FieldType.INT64, key: true }] },
    ];
    const read = schemas.map((schema) =>
      readPublishRequest(received(toBinary(PublishRequestSchema, create(PublishRequestSchema, { batch: { schema } })))),
    );
    expect(read.map((request) => request.batch?.schema?.fields.map((field) => [field.name, field.type]))).toEqual([
      [["id", FieldType.INT64]],
      [["id", FieldType.INT64]],
      [
        ["id", FieldType.INT32],
        ["v", FieldType.UNSPECIFIED],
      ],
      [["id", FieldType.INT64]],
    ]);
  });

  it("rejects a string that is not UTF-8 as protobuf-es does", () => {
    const notUtf8 = new Uint8Array([0xff, 0x41]);
    const inProject = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(notUtf8).finish();
    const inWindow = new BinaryWriter()
      .tag(2, WireType.LengthDelimited)
      .bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(notUtf8).finish())
      .finish();
    for (const bytes of [inProject, inWindow].map(received)) {
      expect(() => fromBinary(PublishRequestSchema, bytes)).toThrow(/utf-8/);
      expect(() => readPublishRequest(bytes)).toThrow(/utf-8/);
    }
  });

  it("rejects truncated bytes as protobuf-es does", () => {
    const bytes = toBinary(PublishRequestSchema, create(PublishRequestSchema, { batch: randomBatch(random(5), 2) }));
    const truncated = received(bytes.subarray(0, bytes.length - 3));
    expect(() => fromBinary(PublishRequestSchema, truncated)).toThrow();
    expect(() => readPublishRequest(truncated)).toThrow();
  });
});

describe("ProcessRequest reader", () => {
  it("reads batch requests exactly as protobuf-es does, in one pass", () => {
    const next = random(11);
    for (let i = 0; i < 200; i++) {
      const request = create(ProcessRequestSchema, {
        kind: { case: "batch", value: { seq: BigInt(i), ...(next() < 0.95 ? { batch: randomBatch(next, i) } : {}) } },
      });
      const bytes = received(toBinary(ProcessRequestSchema, request));
      const expected = fromBinary(ProcessRequestSchema, bytes);
      expect(tryReadProcessRequest(bytes), `request ${i}`).toEqual(expected);
      expect(readProcessRequest(bytes)).toEqual(expected);
    }
  });

  it("leaves the other cases (open, acquire, release) to protobuf-es", () => {
    const requests = [
      create(ProcessRequestSchema, { kind: { case: "open", value: { project: "p", shardCount: 4096 } } }),
      create(ProcessRequestSchema, { kind: { case: "acquire", value: { shards: [1, 2, 4095], epoch: 3n } } }),
      create(ProcessRequestSchema, { kind: { case: "release", value: { shards: [7], epoch: 4n } } }),
    ];
    for (const request of requests) {
      const bytes = received(toBinary(ProcessRequestSchema, request));
      expect(tryReadProcessRequest(bytes)).toBeUndefined();
      expect(readProcessRequest(bytes)).toEqual(request);
    }
  });
});
