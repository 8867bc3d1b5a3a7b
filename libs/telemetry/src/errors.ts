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
   * Any thrown value as a MeshError: a MeshError as is, a gRPC service error by its status
   * (details travel in the `espmesh-details` metadata), anything else as INTERNAL (or
   * CANCELLED for aborts).
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
          details = {};
        }
      }
      return new MeshError(code, reason.details || reason.message, { details, cause: reason });
    }
    if (reason instanceof Error) {
      if (reason.name === "AbortError") return new MeshError("CANCELLED", reason.message, { cause: reason });
      return new MeshError("INTERNAL", reason.message, { cause: reason });
    }
    return new MeshError("INTERNAL", String(reason), { cause: reason });
  }

  /** The code for a gRPC status number. */
  static codeOfGrpcStatus(grpcStatus: number): MeshErrorCode {
    return codeByGrpcNumber.get(grpcStatus) ?? "UNKNOWN";
  }

  /** The body of the one HTTP error shape: `{"error": {"code", "message", "details"}}`. */
  toJSON(): { error: { code: MeshErrorCode; message: string; details: MeshErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
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
