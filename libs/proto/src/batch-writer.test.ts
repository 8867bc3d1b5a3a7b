import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { writePublishRequest } from "./batch-writer.js";
import { FieldType, SchemaSchema } from "./gen/espmesh/v1/events_pb.js";
import { PublishRequestSchema } from "./gen/espmesh/v1/ingest_pb.js";
import { random, randomBatch } from "./testing/random-batch.js";

/** Bytes as one type, so a Buffer and a Uint8Array with the same bytes compare equal. */
const bytes = (value: Uint8Array) => [...value];

describe("PublishRequest writer", () => {
  it("writes 300 random requests byte for byte as protobuf-es does", () => {
    const next = random(17);
    for (let i = 0; i < 300; i++) {
      const batch = next() < 0.9 ? randomBatch(next, i) : undefined;
      if (batch?.origin !== undefined && next() < 0.1) batch.origin.seq = 2n ** 60n + BigInt(i);
      const request = create(PublishRequestSchema, {
        project: next() < 0.8 ? `orders-${i % 2}` : "",
        ...(batch === undefined ? {} : { batch }),
        coalesceAcks: next() < 0.5,
      });
      expect(bytes(writePublishRequest(request)), `request ${i}`).toEqual(
        bytes(toBinary(PublishRequestSchema, request)),
      );
    }
  });

  it("writes a request given as a partial init object (through protobuf-es)", () => {
    const request = { project: "p", batch: { window: "trades", count: 2, opcodes: new Uint8Array([1, 1]) } };
    expect(writePublishRequest(request)).toEqual(toBinary(PublishRequestSchema, create(PublishRequestSchema, request)));
  });

  it("writes the schema a batch carries, and a batch without one once the schema is dropped", () => {
    const batch = randomBatch(random(23), 1);
    batch.schema = create(SchemaSchema, { fields: [{ name: "id", type: FieldType.INT64, key: true }] });
    const { schema: _dropped, ...withoutSchema } = batch;
    for (const request of [
      { project: "p", batch },
      { project: "p", batch: withoutSchema },
    ]) {
      expect(bytes(writePublishRequest(request))).toEqual(
        bytes(toBinary(PublishRequestSchema, create(PublishRequestSchema, request))),
      );
    }
  });
});
