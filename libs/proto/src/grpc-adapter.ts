import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { widenHttp2Windows } from "./http2-windows.js";

/** What a server handler learns about its call. */
export interface CallContext {
  /** Request metadata (headers). */
  readonly metadata: grpc.Metadata;
  /** Aborted when the client cancels or the call ends. */
  readonly signal: AbortSignal;
  /** The client's address. */
  readonly peer: string;
}

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutInit<M> = M extends { output: infer O extends DescMessage } ? MessageInitShape<O> : never;
type InInit<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;

/** The server-side handler of one method, by its call shape. */
export type MethodHandler<M> = M extends { methodKind: "unary" }
  ? (request: In<M>, context: CallContext) => Promise<OutInit<M>> | OutInit<M>
  : M extends { methodKind: "server_streaming" }
    ? (request: In<M>, context: CallContext) => AsyncIterable<OutInit<M>>
    : M extends { methodKind: "client_streaming" }
      ? (requests: AsyncIterable<In<M>>, context: CallContext) => Promise<OutInit<M>>
      : M extends { methodKind: "bidi_streaming" }
        ? (requests: AsyncIterable<In<M>>, context: CallContext) => AsyncIterable<OutInit<M>>
        : never;

/** An implementation of every method of a generated service. */
export type ServiceImpl<S> =
  S extends GenService<infer T extends GenServiceMethods> ? { [K in keyof T]: MethodHandler<T[K]> } : never;

/** Per-call options of a client method. */
export interface CallOptions {
  signal?: AbortSignal;
  metadata?: grpc.Metadata;
  /** Milliseconds from now, or an absolute Date. */
  deadline?: number | Date;
}

/** The client-side function of one method, by its call shape. */
export type MethodCaller<M> = M extends { methodKind: "unary" }
  ? (request: InInit<M>, options?: CallOptions) => Promise<Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? (request: InInit<M>, options?: CallOptions) => AsyncIterable<Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? (requests: AsyncIterable<InInit<M>>, options?: CallOptions) => Promise<Out<M>>
      : M extends { methodKind: "bidi_streaming" }
        ? (requests: AsyncIterable<InInit<M>>, options?: CallOptions) => AsyncIterable<Out<M>>
        : never;

/** A typed client of a generated service; `close()` releases its channel. */
export type ServiceClient<S> = (S extends GenService<infer T extends GenServiceMethods>
  ? { [K in keyof T]: MethodCaller<T[K]> }
  : never) & { close(): void; readonly channel: grpc.Client };

/** Options of {@link createServiceClient}. */
export interface ServiceClientOptions {
  /** @default grpc.credentials.createInsecure() */
  credentials?: grpc.ChannelCredentials;
  /** grpc-js channel options, e.g. keepalive. */
  channelOptions?: grpc.ChannelOptions;
  /** Metadata added to every call (e.g. authorization). */
  metadata?: grpc.Metadata;
}

function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer(schema: DescMessage, write?: (value: unknown) => Uint8Array): (value: unknown) => Buffer {
  const encode =
    write ?? ((value: unknown) => toBinary(schema, create(schema, value as MessageInitShape<DescMessage>)));
  return (value) => {
    const bytes = encode(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}

/**
 * Readers of request bytes that replace the generic protobuf-es reader for some methods of a
 * service (hot paths, e.g. `readPublishRequest`); each must return what `fromBinary` would.
 */
export type RequestReaders<S> =
  S extends GenService<infer T extends GenServiceMethods>
    ? { [K in keyof T]?: (bytes: Uint8Array) => In<T[K]> }
    : never;

/** The grpc-js service definition of a protobuf-es service descriptor. */
export function createServiceDefinition<S extends DescService>(
  service: S,
  readers?: RequestReaders<S>,
): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const custom = (readers ?? {}) as Record<string, ((bytes: Uint8Array) => unknown) | undefined>;
  for (const method of service.methods) {
    definition[method.localName] = {
      path: pathOf(method),
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: custom[method.localName] ?? deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition;
}

/** A MeshError as the status object grpc-js sends; details travel as `espmesh-details`. */
export function toServiceError(reason: unknown): Partial<grpc.StatusObject> {
  const error = MeshError.from(reason);
  const metadata = new grpc.Metadata();
  if (Object.keys(error.details).length > 0) metadata.set("espmesh-details", detailsJson(error.details));
  return { code: error.grpcStatus, details: error.message, metadata };
}

/** Details as JSON; bigints (epochs, seqs) become numbers, and unserialisable details are replaced by a note. */
function detailsJson(details: MeshError["details"]): string {
  try {
    return JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? Number(value) : value));
  } catch (error) {
    return JSON.stringify({ detailsError: String(error) });
  }
}

/**
 * The requests of a streaming call as an async iterable that does not destroy the call when the
 * handler stops reading: a plain `for await` over a Duplex destroys its writable side too, which
 * would drop the responses still to be written and the status.
 */
function requestsOf(call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) };
}

type ServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

function contextOf(call: ServerCall): { context: CallContext; done: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort(new MeshError("CANCELLED", "the call was cancelled"));
  const events = call as unknown as NodeJS.EventEmitter;
  events.on("cancelled", abort);
  return {
    context: { metadata: call.metadata, signal: controller.signal, peer: call.getPeer() },
    done: () => {
      events.off("cancelled", abort);
      if (!controller.signal.aborted) controller.abort(new MeshError("CANCELLED", "the call ended"));
    },
  };
}

/**
 * Resolves on the stream's next `drain` or `close` (rejects on an `error`), then removes its
 * listeners (left in place, one set per full buffer would pile up on a long-lived stream).
 * Plain listeners rather than two `events.once` with an AbortSignal: this runs each time a busy
 * stream's buffer fills, and an AbortController plus the AbortError that rejects the losing
 * `once` on every wait is needless cost.
 */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    const off = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", failed);
    };
    const done = () => {
      off();
      resolve();
    };
    // As `events.once` does, an 'error' while waiting rejects.
    const failed = (error: unknown) => {
      off();
      reject(error);
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", failed);
  });
}

/** Writes an async iterable to a writable call, honouring backpressure. */
async function writeAll<T>(
  call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>,
  messages: AsyncIterable<T>,
): Promise<void> {
  for await (const message of messages) {
    if (call.destroyed || call.writableEnded) return;
    if (!call.write(message)) await drained(call);
  }
}

type AnyHandler = (input: unknown, context: CallContext) => unknown;

function serverHandler(method: DescMethod, handler: AnyHandler): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const { context, done } = contextOf(call);
        Promise.resolve()
          .then(() => handler(call.request, context))
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(toServiceError(error)),
          )
          .finally(done);
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const { context, done } = contextOf(call);
        Promise.resolve()
          .then(() => handler(requestsOf(call), context))
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(toServiceError(error)),
          )
          .finally(done);
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const { context, done } = contextOf(call);
        writeAll(call, handler(call.request, context) as AsyncIterable<unknown>)
          .then(
            () => call.end(),
            (error: unknown) => call.emit("error", toServiceError(error)),
          )
          .finally(done);
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const { context, done } = contextOf(call);
        writeAll(call, handler(requestsOf(call), context) as AsyncIterable<unknown>)
          .then(
            () => call.end(),
            (error: unknown) => call.emit("error", toServiceError(error)),
          )
          .finally(done);
      };
  }
}

/** Options of {@link addService}. */
export interface AddServiceOptions<S> {
  /** Hand-written readers for some methods' requests (see {@link RequestReaders}). */
  readers?: RequestReaders<S>;
}

/** Registers an implementation of a generated service on a grpc-js server. */
export function addService<S extends DescService>(
  server: grpc.Server,
  service: S,
  implementation: ServiceImpl<S>,
  options: AddServiceOptions<S> = {},
): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  const impl = implementation as unknown as Record<string, AnyHandler>;
  for (const method of service.methods) {
    const handler = impl[method.localName];
    if (handler === undefined) {
      throw new MeshError("INVALID_ARGUMENT", `no handler for ${service.typeName}.${method.name}`);
    }
    handlers[method.localName] = serverHandler(method, handler.bind(implementation));
  }
  server.addService(createServiceDefinition(service, options.readers), handlers);
}

/**
 * Binds a grpc-js server to `address` (`host:port`, port 0 = any free port) and resolves with the
 * bound port. Its HTTP/2 receive windows are widened to 1 MiB (see
 * {@link widenHttp2Windows}).
 */
export function bindServer(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error) {
        reject(new MeshError("UNAVAILABLE", `cannot listen on ${address}: ${error.message}`, { cause: error }));
      } else {
        widenHttp2Windows(server);
        resolve(port);
      }
    });
  });
}

/** Shuts a grpc-js server down, forcing it after `graceMs`. */
export function shutdownServer(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function callOptionsOf(options: CallOptions | undefined): grpc.CallOptions {
  const deadline = options?.deadline;
  if (deadline === undefined) return {};
  return { deadline: typeof deadline === "number" ? Date.now() + deadline : deadline };
}

function metadataOf(base: grpc.Metadata | undefined, options: CallOptions | undefined): grpc.Metadata {
  const metadata = base?.clone() ?? new grpc.Metadata();
  if (options?.metadata) metadata.merge(options.metadata);
  return metadata;
}

function cancelOn(signal: AbortSignal | undefined, call: { cancel(): void }): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    call.cancel();
    return () => {};
  }
  const onAbort = () => call.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Reads a call's responses; a consumer that stops early (break, return) cancels the call. */
async function* readAll<T>(call: AsyncIterable<unknown> & { cancel(): void }, release: () => void): AsyncIterable<T> {
  let settled = false;
  try {
    for await (const message of call) yield message as T;
    settled = true;
  } catch (error) {
    settled = true;
    throw MeshError.from(error);
  } finally {
    if (!settled) call.cancel();
    release();
  }
}

async function pump(
  call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  requests: AsyncIterable<unknown>,
): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.destroyed || call.writableEnded) return;
      if (!call.write(request)) await drained(call);
    }
    call.end();
  } catch (error) {
    call.destroy(error instanceof Error ? error : new Error(String(error)));
    call.cancel();
  }
}

/**
 * A typed client of a generated service. Unary and client-streaming methods return promises,
 * server-streaming and bidi methods return async iterables; failures are {@link MeshError}s
 * whose code is the gRPC status.
 */
export function createServiceClient<S extends DescService>(
  service: S,
  address: string,
  options: ServiceClientOptions = {},
): ServiceClient<S> {
  const channel = new grpc.Client(
    address,
    options.credentials ?? grpc.credentials.createInsecure(),
    options.channelOptions ?? {},
  );
  const client: Record<string, unknown> = { channel, close: () => channel.close() };
  for (const method of service.methods) {
    const path = pathOf(method);
    const serialize = serializer(method.input);
    const deserialize = deserializer(method.output);
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = (request: unknown, callOptions?: CallOptions) =>
          new Promise((resolve, reject) => {
            const call = channel.makeUnaryRequest(
              path,
              serialize,
              deserialize,
              request,
              metadataOf(options.metadata, callOptions),
              callOptionsOf(callOptions),
              (error, response) => {
                release();
                if (error) reject(MeshError.from(error));
                else resolve(response);
              },
            );
            const release = cancelOn(callOptions?.signal, call);
          });
        break;
      case "server_streaming":
        client[method.localName] = (request: unknown, callOptions?: CallOptions) => {
          const call = channel.makeServerStreamRequest(
            path,
            serialize,
            deserialize,
            request,
            metadataOf(options.metadata, callOptions),
            callOptionsOf(callOptions),
          );
          return readAll(call, cancelOn(callOptions?.signal, call));
        };
        break;
      case "client_streaming":
        client[method.localName] = (requests: AsyncIterable<unknown>, callOptions?: CallOptions) =>
          new Promise((resolve, reject) => {
            const call = channel.makeClientStreamRequest(
              path,
              serialize,
              deserialize,
              metadataOf(options.metadata, callOptions),
              callOptionsOf(callOptions),
              (error, response) => {
                release();
                if (error) reject(MeshError.from(error));
                else resolve(response);
              },
            );
            const release = cancelOn(callOptions?.signal, call);
            void pump(call, requests);
          });
        break;
      case "bidi_streaming":
        client[method.localName] = (requests: AsyncIterable<unknown>, callOptions?: CallOptions) => {
          const call = channel.makeBidiStreamRequest(
            path,
            serialize,
            deserialize,
            metadataOf(options.metadata, callOptions),
            callOptionsOf(callOptions),
          );
          void pump(call, requests);
          return readAll(call, cancelOn(callOptions?.signal, call));
        };
        break;
    }
  }
  return client as ServiceClient<S>;
}
