/** Random `Batch` messages for the wire reader and writer tests (test support, not exported). */
import { create } from "@bufbuild/protobuf";
import { type Batch, BatchSchema, FieldType } from "../gen/espmesh/v1/events_pb.js";

/** A small deterministic generator (tests must repeat). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function bytesOf(next: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/** A batch with every field the reader knows, each present or left at its default at random. */
export function randomBatch(next: () => number, index: number): Batch {
  const count = Math.floor(next() * 40);
  const pick = () => next() < 0.6;
  return create(BatchSchema, {
    window: pick() ? `trades-${index % 3}` : "",
    schemaFingerprint: pick() ? `fp${index % 2}` : "",
    ...(pick() ? { schema: { fields: [{ name: "id", type: FieldType.INT64, key: true }, { name: "sym" }] } } : {}),
    count,
    opcodes: bytesOf(next, count),
    columns: Array.from({ length: Math.floor(next() * 4) }, () => ({
      values: bytesOf(next, Math.floor(next() * 64)),
      lengths: pick() ? bytesOf(next, count * 4) : new Uint8Array(0),
      nulls: pick() ? bytesOf(next, Math.ceil(count / 8)) : new Uint8Array(0),
    })),
    ...(pick()
      ? {
          origin: {
            sourceId: pick() ? `publisher-é-${index % 4}` : "",
            seq: BigInt(Math.floor(next() * Number.MAX_SAFE_INTEGER)),
          },
        }
      : {}),
    traceContext: pick() ? { traceparent: `00-${index}-01`, tracestate: "a=b" } : {},
  });
}
