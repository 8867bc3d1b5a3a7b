import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { httpStatusOf, isMeshErrorCode, MeshError, type MeshErrorCode } from "./errors.js";

const expected: [MeshErrorCode, number, number][] = [
  ["CANCELLED", grpc.status.CANCELLED, 499],
  ["UNKNOWN", grpc.status.UNKNOWN, 500],
  ["INVALID_ARGUMENT", grpc.status.INVALID_ARGUMENT, 400],
  ["DEADLINE_EXCEEDED", grpc.status.DEADLINE_EXCEEDED, 504],
  ["NOT_FOUND", grpc.status.NOT_FOUND, 404],
  ["ALREADY_EXISTS", grpc.status.ALREADY_EXISTS, 409],
  ["PERMISSION_DENIED", grpc.status.PERMISSION_DENIED, 403],
  ["RESOURCE_EXHAUSTED", grpc.status.RESOURCE_EXHAUSTED, 429],
  ["FAILED_PRECONDITION", grpc.status.FAILED_PRECONDITION, 400],
  ["ABORTED", grpc.status.ABORTED, 409],
  ["OUT_OF_RANGE", grpc.status.OUT_OF_RANGE, 400],
  ["UNIMPLEMENTED", grpc.status.UNIMPLEMENTED, 501],
  ["INTERNAL", grpc.status.INTERNAL, 500],
  ["UNAVAILABLE", grpc.status.UNAVAILABLE, 503],
  ["DATA_LOSS", grpc.status.DATA_LOSS, 500],
  ["UNAUTHENTICATED", grpc.status.UNAUTHENTICATED, 401],
];

function grpcError(code: number, details: string, meta?: Record<string, string>): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(meta ?? {})) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe("MeshError codes", () => {
  it.each(expected)("maps %s to gRPC status %i and HTTP status %i, and back from gRPC", (code, grpcStatus, http) => {
    const error = new MeshError(code, "boom");
    expect(error.grpcStatus).toBe(grpcStatus);
    expect(error.httpStatus).toBe(http);
    expect(httpStatusOf(code)).toBe(http);
    expect(MeshError.codeOfGrpcStatus(grpcStatus)).toBe(code);
    expect(isMeshErrorCode(code)).toBe(true);
  });

  it("reads an unknown gRPC status as UNKNOWN", () => {
    expect(MeshError.codeOfGrpcStatus(0)).toBe("UNKNOWN");
    expect(MeshError.codeOfGrpcStatus(99)).toBe("UNKNOWN");
  });

  it("reads HTTP statuses back to codes, falling back by class", () => {
    expect(MeshError.codeOfHttpStatus(404)).toBe("NOT_FOUND");
    expect(MeshError.codeOfHttpStatus(429)).toBe("RESOURCE_EXHAUSTED");
    expect(MeshError.codeOfHttpStatus(503)).toBe("UNAVAILABLE");
    expect(MeshError.codeOfHttpStatus(418)).toBe("FAILED_PRECONDITION");
    expect(MeshError.codeOfHttpStatus(502)).toBe("UNAVAILABLE");
    expect(MeshError.codeOfHttpStatus(302)).toBe("UNKNOWN");
    const oneToOne: MeshErrorCode[] = [
      "CANCELLED",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "UNAUTHENTICATED",
    ];
    for (const code of oneToOne) expect(MeshError.codeOfHttpStatus(httpStatusOf(code))).toBe(code);
  });

  it("rejects names that are not codes", () => {
    expect(isMeshErrorCode("OK")).toBe(false);
    expect(isMeshErrorCode("toString")).toBe(false);
    expect(isMeshErrorCode(3)).toBe(false);
  });
});

describe("MeshError.from", () => {
  it("returns a MeshError unchanged", () => {
    const error = new MeshError("NOT_FOUND", "no such project", { details: { project: "p" } });
    expect(MeshError.from(error)).toBe(error);
  });

  it("reads a gRPC error's status, message and espmesh-details", () => {
    const source = grpcError(grpc.status.FAILED_PRECONDITION, "stale epoch", {
      "espmesh-details": JSON.stringify({ shard: 7, window: "w" }),
    });
    const error = MeshError.from(source);
    expect(error.code).toBe("FAILED_PRECONDITION");
    expect(error.message).toBe("stale epoch");
    expect(error.details).toEqual({ shard: 7, window: "w" });
    expect(error.cause).toBe(source);
  });

  it("keeps a gRPC error's code when its details metadata is not JSON", () => {
    const error = MeshError.from(grpcError(grpc.status.UNAVAILABLE, "down", { "espmesh-details": "{" }));
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.details).toEqual({});
  });

  it("reads aborts as CANCELLED and timeouts as DEADLINE_EXCEEDED", () => {
    const controller = new AbortController();
    controller.abort();
    expect(MeshError.from(controller.signal.reason).code).toBe("CANCELLED");
    expect(MeshError.from(new DOMException("too slow", "TimeoutError")).code).toBe("DEADLINE_EXCEEDED");
  });

  it("reads a refused connection as UNAVAILABLE", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(MeshError.from(refused).code).toBe("UNAVAILABLE");
  });

  it("reads the HTTP error body and a bare {code, message} back", () => {
    const original = new MeshError("INVALID_ARGUMENT", "bad row", { details: { field: "id", row: 3 } });
    const body: unknown = JSON.parse(JSON.stringify(original));
    const error = MeshError.from(body);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe("bad row");
    expect(error.details).toEqual({ field: "id", row: 3 });
    expect(MeshError.from({ code: "NOT_FOUND", message: "gone" }).code).toBe("NOT_FOUND");
  });

  it("reads any other value as INTERNAL with a readable message", () => {
    const plain = MeshError.from(new TypeError("x is undefined"));
    expect(plain.code).toBe("INTERNAL");
    expect(plain.message).toBe("x is undefined");
    expect(MeshError.from("just text").message).toBe("just text");
    expect(MeshError.from({ code: "NOPE", message: "m" }).code).toBe("INTERNAL");
    expect(MeshError.from({ a: 1 }).message).toBe('{"a":1}');
    expect(MeshError.from(undefined).message).toBe("undefined");
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(MeshError.from(circular).message).toBe("[object Object]");
  });

  it("serialises to the one HTTP error shape", () => {
    const error = new MeshError("NOT_FOUND", "no window w", { details: { window: "w" } });
    expect(error.toJSON()).toEqual({ error: { code: "NOT_FOUND", message: "no window w", details: { window: "w" } } });
    expect(error.name).toBe("MeshError");
    expect(error).toBeInstanceOf(Error);
  });
});
