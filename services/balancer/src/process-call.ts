import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";

/** A control message of a Process stream (open, acquire, release). */
export type ProcessRequestInit = MessageInitShape<typeof pb.ProcessRequestSchema>;

/**
 * A message written to a Process stream: a control message, or the bytes of a whole
 * `ProcessRequest` already encoded (`encodeProcessBatch`), sent as they are.
 */
export type ProcessRequestOut = ProcessRequestInit | Uint8Array;

const PATH = `/${pb.WorkerService.typeName}/${pb.WorkerService.method.process.name}`;

function serialize(value: ProcessRequestOut): Buffer {
  const bytes =
    value instanceof Uint8Array ? value : toBinary(pb.ProcessRequestSchema, create(pb.ProcessRequestSchema, value));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function deserialize(bytes: Buffer): pb.ProcessResponse {
  return fromBinary(pb.ProcessResponseSchema, bytes);
}

/** One open `WorkerService.Process` stream, written to directly (no request iterator between). */
export interface ProcessCall {
  /** Queues a message (in order); dropped once the call ended. */
  write(message: ProcessRequestOut): void;
  /** The worker's replies; throws a {@link MeshError} when the stream fails. */
  readonly responses: AsyncIterable<pb.ProcessResponse>;
  /** Cancels the stream. */
  cancel(): void;
}

/**
 * Opens a Process stream on a worker's channel. Writes go straight to the gRPC call (its buffer
 * holds what HTTP/2 flow control does not let through yet; the balancer bounds it by its
 * in-flight limits), which spares each sub-batch the hops through an async request iterator.
 */
export function openProcessCall(channel: grpc.Client): ProcessCall {
  const call = channel.makeBidiStreamRequest<ProcessRequestOut, pb.ProcessResponse>(
    PATH,
    serialize,
    deserialize,
    new grpc.Metadata(),
    {},
  );
  // Failures surface through the responses; an 'error' event without a listener would throw.
  call.on("error", () => undefined);
  return {
    write(message) {
      if (call.destroyed || call.writableEnded) return;
      call.write(message);
    },
    responses: (async function* () {
      try {
        for await (const response of call as AsyncIterable<pb.ProcessResponse>) yield response;
      } catch (error) {
        throw MeshError.from(error);
      }
    })(),
    cancel() {
      call.cancel();
    },
  };
}
