/**
 * Turning ioredis failures into MeshErrors: anything that means "Redis cannot answer now"
 * (connection closed or refused, offline, timed out, loading, busy, failing over) is UNAVAILABLE,
 * so clients retry; an out-of-memory Redis is RESOURCE_EXHAUSTED; the rest is INTERNAL.
 */
import { MeshError } from "@espmesh/telemetry";

const unavailableReplies = new Set([
  "LOADING",
  "BUSY",
  "MASTERDOWN",
  "READONLY",
  "TRYAGAIN",
  "CLUSTERDOWN",
  "NOREPLICAS",
]);

/** The MeshError for a failed Redis call made by `operation`. */
export function fromRedisError(error: unknown, operation: string): MeshError {
  if (error instanceof MeshError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "";
  if (name === "ReplyError") {
    const word = /^[A-Z]+/.exec(message)?.[0] ?? "";
    if (unavailableReplies.has(word)) {
      return new MeshError("UNAVAILABLE", `redis cannot serve ${operation} now: ${message}`, { cause: error });
    }
    if (word === "OOM" || message.includes("OOM command not allowed")) {
      return new MeshError("RESOURCE_EXHAUSTED", `redis is out of memory during ${operation}: ${message}`, {
        cause: error,
      });
    }
    return new MeshError("INTERNAL", `redis rejected ${operation}: ${message}`, { cause: error });
  }
  // Not a reply: the connection is closed, refused, offline or timed out. The script either ran
  // whole or not at all, so the caller may retry.
  return new MeshError("UNAVAILABLE", `redis unreachable during ${operation}: ${message}`, { cause: error });
}
