import { createHash, timingSafeEqual } from "node:crypto";
import { MeshError } from "@espmesh/telemetry";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** Paths answered without a token: probes, metrics and the API documentation. */
const OPEN_PATHS = ["/healthz", "/readyz", "/metrics"];
const OPEN_PREFIX = "/docs";

/** Whether a path is answered without a token. */
export function isOpenPath(path: string): boolean {
  return OPEN_PATHS.includes(path) || path === OPEN_PREFIX || path.startsWith(`${OPEN_PREFIX}/`);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * The bearer token a request carries: the `Authorization: Bearer <token>` header or, on the
 * subscription route only (browsers' EventSource and WebSocket cannot set headers), an
 * `access_token` query parameter.
 */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1] : "";
  }
  if (request.method === "GET" && /\/windows\/[^/]+\/events$/.test(request.url.split("?")[0] ?? "")) {
    const query = request.query as Record<string, unknown> | undefined;
    const value = query?.access_token;
    if (typeof value === "string") return value;
  }
  return undefined;
}

/**
 * Requires `token` as a bearer token on every request except {@link isOpenPath} ones: a missing
 * or wrong token is refused with 401 UNAUTHENTICATED before the body is read. Tokens are compared
 * in constant time.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook("onRequest", async (request) => {
    const path = request.url.split("?")[0] ?? "/";
    if (isOpenPath(path)) return;
    const given = tokenOf(request);
    if (given === undefined) {
      throw new MeshError("UNAUTHENTICATED", "missing bearer token: send `Authorization: Bearer <token>`");
    }
    if (!timingSafeEqual(digest(given), expected)) throw new MeshError("UNAUTHENTICATED", "invalid bearer token");
  });
}
