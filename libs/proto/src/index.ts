/**
 * @packageDocumentation
 * The espmesh protocol: messages and services generated from `proto/espmesh/v1` by
 * `buf generate` (protoc-gen-es, checked in under `src/gen`), the one generic adapter that
 * serves and calls any of those services over grpc-js, and hand-written readers of the two
 * requests that carry events, with helpers for one-pass writers of batch messages
 * (`batch-reader.ts`, `batch-writer.ts`, `wire-writer.ts`).
 *
 * 64-bit policy: protobuf-es represents `int64`/`uint64` protocol fields (sequences, epochs,
 * versions) as `bigint`. Code converts them at the boundary with `Number()` / `BigInt()`; none of
 * them is allowed to exceed `Number.MAX_SAFE_INTEGER`. Event values of ESP type int64 never travel
 * as protobuf scalars: they are packed little-endian into `Column.values` (see `@espmesh/events`).
 */

export { readProcessRequest, readPublishRequest } from "./batch-reader.js";
export { type BatchFrame, planBatchFrame, writeBatchHead, writeBatchTail } from "./batch-writer.js";
export * from "./channel.js";
export * from "./gen/espmesh/v1/balancer_pb.js";
export * from "./gen/espmesh/v1/control_pb.js";
export * from "./gen/espmesh/v1/events_pb.js";
export * from "./gen/espmesh/v1/ingest_pb.js";
export * from "./gen/espmesh/v1/registry_pb.js";
export * from "./gen/espmesh/v1/state_pb.js";
export * from "./gen/espmesh/v1/worker_pb.js";
export * from "./grpc-adapter.js";
export * from "./http2-windows.js";
export * from "./wire-writer.js";
