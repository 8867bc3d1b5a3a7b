import { MeshError } from "@espmesh/telemetry";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** Media types read as text: NDJSON and CSV events, XML and YAML projects. */
export const TEXT_MEDIA_TYPES = {
  ndjson: ["application/x-ndjson", "application/ndjson", "application/jsonl"],
  csv: ["text/csv"],
  xml: ["application/xml", "text/xml"],
  yaml: ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"],
} as const;

/**
 * Registers parsers that hand the body over as a string for the {@link TEXT_MEDIA_TYPES}; the
 * server's body limit applies to them as to JSON.
 */
export function installTextParsers(app: FastifyInstance): void {
  const types = Object.values(TEXT_MEDIA_TYPES).flat();
  app.addContentTypeParser(types, { parseAs: "string" }, (_request, body, done) => done(null, body));
}

/** The media type of a request, lower case, without parameters; "" when it has none. */
export function mediaTypeOf(request: FastifyRequest): string {
  const header = request.headers["content-type"];
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Which of `accepted` kinds a request's media type is, or 415 naming the media types the route
 * takes.
 */
export function kindOf<K extends string>(request: FastifyRequest, accepted: Record<K, readonly string[]>): K {
  const media = mediaTypeOf(request);
  for (const [kind, types] of Object.entries(accepted) as [K, readonly string[]][]) {
    if (types.includes(media)) return kind;
  }
  const all = Object.values<readonly string[]>(accepted).flat().join(", ");
  throw new UnsupportedMediaType(
    media === "" ? "the request has no Content-Type" : `unsupported Content-Type "${media}"`,
    all,
  );
}

/** A request body of a media type the route does not take (answered 415). */
export class UnsupportedMediaType extends MeshError {
  /** HTTP status of the answer. */
  readonly statusCode = 415;

  constructor(reason: string, accepted: string) {
    super("INVALID_ARGUMENT", `${reason}; send one of: ${accepted}`, { details: { accepted } });
  }
}
