import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * Error codes of espmesh. They are the gRPC status names, so a code maps one to one to a gRPC
 * status and to an HTTP status (see {@link httpStatusOf}).
 */
export type MeshErrorCode =
  | "CANCELLED"
  | "UNKNOWN"
  | "INVALID_ARGUMENT"
  | "DEADLINE_EXCEEDED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DATA_LOSS"
  | "UNAUTHENTICATED";

const httpByCode: Record<MeshErrorCode, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/** Where in the input an error was found; any subset may be known. */
export interface MeshErrorDetails {
  project?: string;
  window?: string;
  field?: string;
  /** Zero-based row index within the batch or request, or a 1-based line where `line` is used. */
  row?: number;
  line?: number;
  file?: string;
  [key: string]: unknown;
}

/** Options of a {@link MeshError}. */
export interface MeshErrorOptions {
  details?: MeshErrorDetails;
  cause?: unknown;
}

const grpcNumberByCode = GrpcStatus as unknown as Record<MeshErrorCode, number>;
/** HTTP statuses that name one code; the first code listed for a status wins. */
const codeByHttpStatus = new Map<number, MeshErrorCode>([
  [400, "INVALID_ARGUMENT"],
  [401, "UNAUTHENTICATED"],
  [403, "PERMISSION_DENIED"],
  [404, "NOT_FOUND"],
  [409, "ALREADY_EXISTS"],
  [429, "RESOURCE_EXHAUSTED"],
  [499, "CANCELLED"],
  [500, "INTERNAL"],
  [501, "UNIMPLEMENTED"],
  [503, "UNAVAILABLE"],
  [504, "DEADLINE_EXCEEDED"],
]);

/** Node system error codes of a peer that cannot be reached or went away. */
const unavailableSystemCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

const codeByGrpcNumber = new Map<number, MeshErrorCode>(
  (Object.keys(httpByCode) as MeshErrorCode[]).map((code) => [grpcNumberByCode[code], code]),
);

/**
 * The one error type of espmesh: a code a program can branch on, a message a user can act on,
 * where in the input it happened, and the cause. Converted to a gRPC status or an HTTP status
 * at process edges.
 */
export class MeshError extends Error {
  override readonly name = "MeshError";
  readonly code: MeshErrorCode;
  readonly details: MeshErrorDetails;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The gRPC status number of this error. */
  get grpcStatus(): number {
    return grpcNumberByCode[this.code];
  }

  /** The HTTP status of this error. */
  get httpStatus(): number {
    return httpByCode[this.code];
  }

  /**
   * Any thrown value as a MeshError: a MeshError as is; a gRPC service error by its status
   * (details travel in the `espmesh-details` metadata); the HTTP error body of {@link toJSON}
   * (`{"error": {"code", "message", "details"}}`) or a bare `{code, message, details?}` with a
   * known code; an abort as CANCELLED and a timeout (`TimeoutError`) as DEADLINE_EXCEEDED; a
   * refused or broken connection (`ECONNREFUSED`, `ECONNRESET`, ...) as UNAVAILABLE; anything
   * else as INTERNAL. The original value is kept as `cause`.
   */
  static from(reason: unknown): MeshError {
    if (reason instanceof MeshError) return reason;
    if (isGrpcError(reason)) {
      const code = codeByGrpcNumber.get(reason.code) ?? "UNKNOWN";
      let details: MeshErrorDetails = {};
      const raw = reason.metadata?.get?.("espmesh-details")?.[0];
      if (typeof raw === "string") {
        try {
          details = JSON.parse(raw) as MeshErrorDetails;
        } catch {
          // Unreadable details are dropped; the code and message still describe the error.
          details = {};
        }
      }
      return new MeshError(code, reason.details || reason.message, { details, cause: reason });
    }
    if (reason instanceof Error) {
      if (reason.name === "AbortError") return new MeshError("CANCELLED", reason.message, { cause: reason });
      if (reason.name === "TimeoutError") return new MeshError("DEADLINE_EXCEEDED", reason.message, { cause: reason });
      const systemCode = (reason as { code?: unknown }).code;
      if (typeof systemCode === "string" && unavailableSystemCodes.has(systemCode)) {
        return new MeshError("UNAVAILABLE", reason.message, { cause: reason });
      }
      return new MeshError("INTERNAL", reason.message, { cause: reason });
    }
    const shaped = errorShapeOf(reason);
    if (shaped) return new MeshError(shaped.code, shaped.message, { details: shaped.details, cause: reason });
    return new MeshError("INTERNAL", typeof reason === "string" ? reason : safeString(reason), { cause: reason });
  }

  /** The code for a gRPC status number. */
  static codeOfGrpcStatus(grpcStatus: number): MeshErrorCode {
    return codeByGrpcNumber.get(grpcStatus) ?? "UNKNOWN";
  }

  /**
   * The code for an HTTP status, for reading a response whose body is not the espmesh error
   * shape: the inverse of {@link httpStatusOf} where that is one to one (400 reads as
   * INVALID_ARGUMENT, 409 as ALREADY_EXISTS, 500 as INTERNAL), other 4xx as FAILED_PRECONDITION,
   * other 5xx as UNAVAILABLE, and anything else as UNKNOWN.
   */
  static codeOfHttpStatus(httpStatus: number): MeshErrorCode {
    const known = codeByHttpStatus.get(httpStatus);
    if (known) return known;
    if (httpStatus >= 400 && httpStatus < 500) return "FAILED_PRECONDITION";
    if (httpStatus >= 500 && httpStatus < 600) return "UNAVAILABLE";
    return "UNKNOWN";
  }

  /** The body of the one HTTP error shape: `{"error": {"code", "message", "details"}}`. */
  toJSON(): { error: { code: MeshErrorCode; message: string; details: MeshErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** True when `value` is one of the {@link MeshErrorCode} names (e.g. a code read off the wire). */
export function isMeshErrorCode(value: unknown): value is MeshErrorCode {
  return typeof value === "string" && Object.hasOwn(httpByCode, value);
}

/** The HTTP status of an error code. */
export function httpStatusOf(code: MeshErrorCode): number {
  return httpByCode[code];
}

interface GrpcLikeError {
  code: number;
  details: string;
  message: string;
  metadata?: { get?: (key: string) => unknown[] };
}

function isGrpcError(reason: unknown): reason is GrpcLikeError {
  return (
    reason instanceof Error &&
    typeof (reason as Partial<GrpcLikeError>).code === "number" &&
    typeof (reason as Partial<GrpcLikeError>).details === "string"
  );
}

interface ErrorShape {
  code: MeshErrorCode;
  message: string;
  details: MeshErrorDetails;
}

/** Reads `{error: {code, message, details?}}` or `{code, message, details?}` with a known code. */
function errorShapeOf(reason: unknown): ErrorShape | undefined {
  if (typeof reason !== "object" || reason === null) return undefined;
  const inner = (reason as { error?: unknown }).error;
  const body = (typeof inner === "object" && inner !== null ? inner : reason) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  if (!isMeshErrorCode(body.code) || typeof body.message !== "string") return undefined;
  const details =
    typeof body.details === "object" && body.details !== null && !Array.isArray(body.details)
      ? (body.details as MeshErrorDetails)
      : {};
  return { code: body.code, message: body.message, details };
}

function safeString(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json;
  } catch {
    // Circular or otherwise unserialisable values still get a readable message.
    return String(value);
  }
}
