import { MeshError, type MeshErrorCode, type MeshErrorDetails } from "@espmesh/telemetry";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";

/** An error with the HTTP status it is answered with (when that is not the code's own status). */
export interface HttpError {
  readonly status: number;
  readonly error: MeshError;
}

/** The JSON schema of the one error shape, for route documentation. */
export const errorResponseSchema = {
  type: "object",
  description: "The one error shape of espmesh",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string", description: "A gRPC status name, e.g. INVALID_ARGUMENT" },
        message: { type: "string" },
        details: {
          type: "object",
          additionalProperties: true,
          description: "Where the error is: project, window, field, row (1-based within the request), line",
        },
      },
      required: ["code", "message", "details"],
    },
  },
  required: ["error"],
} as const;

/** What fastify's own errors become: status and code, by fastify error code. */
const fastifyErrors: Record<string, { status: number; code: MeshErrorCode; prefix?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "RESOURCE_EXHAUSTED" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "INVALID_ARGUMENT" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "INVALID_ARGUMENT", prefix: "malformed JSON body: " },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "INVALID_ARGUMENT" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "INVALID_ARGUMENT" },
};

/**
 * Any error raised while answering a request as a {@link MeshError} and its HTTP status:
 * MeshErrors by their `statusCode` when they carry one, else by their code; fastify's body errors (too large 413, unsupported media type 415,
 * malformed JSON 400) and schema validation errors (400) by their kind; anything else with a 4xx
 * `statusCode` by that status; the rest as MeshError.from sees it.
 */
export function toHttpError(reason: unknown): HttpError {
  if (reason instanceof MeshError) {
    // A MeshError may carry a more precise HTTP status than its code's (415 for a media type).
    const precise = (reason as MeshError & { statusCode?: unknown }).statusCode;
    return { status: typeof precise === "number" ? precise : reason.httpStatus, error: reason };
  }
  const fastifyError = reason as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (reason instanceof Error && typeof fastifyError.code === "string") {
    const known = fastifyErrors[fastifyError.code];
    if (known) {
      const error = new MeshError(known.code, `${known.prefix ?? ""}${reason.message}`, { cause: reason });
      return { status: known.status, error };
    }
  }
  if (reason instanceof Error && Array.isArray(fastifyError.validation)) {
    const details: MeshErrorDetails = { validation: fastifyError.validation };
    return { status: 400, error: new MeshError("INVALID_ARGUMENT", reason.message, { details, cause: reason }) };
  }
  const status = fastifyError.statusCode;
  if (reason instanceof Error && typeof status === "number" && status >= 400 && status < 500) {
    return { status, error: new MeshError(MeshError.codeOfHttpStatus(status), reason.message, { cause: reason }) };
  }
  const error = MeshError.from(reason);
  return { status: error.httpStatus, error };
}

/** Answers with the one error shape `{"error": {"code", "message", "details"}}`. */
export function sendError(reply: FastifyReply, failure: HttpError): FastifyReply {
  if (failure.status === 401) reply.header("www-authenticate", 'Bearer realm="espmesh"');
  return reply.code(failure.status).type("application/json; charset=utf-8").send(failure.error.toJSON());
}

/**
 * Makes every error and every unknown route answer in the one error shape; server-side errors
 * (5xx) are logged.
 */
export function installErrorHandlers(app: FastifyInstance, logError: (error: MeshError, url: string) => void): void {
  app.setErrorHandler((reason, request, reply) => {
    const failure = toHttpError(reason);
    if (failure.status >= 500) logError(failure.error, request.url);
    return sendError(reply, failure);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const error = new MeshError("NOT_FOUND", `no route ${request.method} ${path}`, { details: { path } });
    return sendError(reply, { status: 404, error });
  });
}
