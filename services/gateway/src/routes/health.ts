import { MeshError, metricsText, PROMETHEUS_CONTENT_TYPE } from "@espmesh/telemetry";
import type { FastifyInstance } from "fastify";
import { errorResponseSchema } from "../http-errors.js";
import type { RouteContext } from "./route-context.js";

const statusSchema = { type: "object", properties: { status: { type: "string" } } } as const;

/** Fails with UNAVAILABLE when `work` has not settled within `millis`. */
async function answersWithin(work: Promise<unknown>, millis: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new MeshError("UNAVAILABLE", `the mesh did not answer within ${millis} ms`)),
      millis,
    );
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (the process answers), `/readyz` (running and the mesh answers), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, context: RouteContext): void {
  const { client, config, logger } = context;

  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness: the gateway answers",
        tags: ["health"],
        security: [],
        response: { 200: statusSchema },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: the gateway is running and the mesh's control plane answers",
        tags: ["health"],
        security: [],
        response: { 200: statusSchema, 503: errorResponseSchema },
      },
    },
    async () => {
      if (!context.isRunning()) throw new MeshError("UNAVAILABLE", "the gateway is not running");
      const listing = client.list();
      try {
        await answersWithin(listing, config.readyTimeoutMs);
      } catch (error) {
        // The listing may still fail after the deadline; that is already reported as not ready.
        listing.catch((late: unknown) => logger.debug({ err: MeshError.from(late) }, "late readiness failure"));
        const failure = MeshError.from(error);
        throw new MeshError("UNAVAILABLE", `the mesh is not reachable: ${failure.message}`, { cause: failure });
      }
      return { status: "ready" };
    },
  );

  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics", tags: ["health"], security: [], produces: ["text/plain"] } },
    async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await metricsText()),
  );
}
