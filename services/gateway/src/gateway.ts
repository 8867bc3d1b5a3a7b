import type { AddressInfo } from "node:net";
import { createClient, type EspClient } from "@espmesh/client";
import { MeshError } from "@espmesh/telemetry";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance } from "fastify";
import { installBearerAuth } from "./auth.js";
import { installTextParsers } from "./content-types.js";
import { createGatewayMetrics } from "./gateway-metrics.js";
import { installErrorHandlers } from "./http-errors.js";
import { type InFlight, trackInFlight } from "./in-flight.js";
import { createMeshWindows } from "./mesh-windows.js";
import { type CompiledGatewayOptions, compileGatewayOptions, type GatewayOptions } from "./options.js";
import { registerEventRoutes } from "./routes/events.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerProjectRoutes } from "./routes/projects.js";
import type { RouteContext } from "./routes/route-context.js";
import { registerSubscriptionRoutes } from "./routes/subscriptions.js";

/** Lifecycle of a gateway. */
export type GatewayState = "created" | "starting" | "running" | "draining" | "stopped";

/**
 * The HTTP front door of the mesh: REST for projects and events (JSON, NDJSON, CSV), SSE and
 * WebSocket subscriptions, OpenAPI at `/docs`, bearer-token auth, a body limit, and one error
 * shape `{"error": {"code", "message", "details"}}`.
 *
 * @example
 * ```ts
 * const gateway = createGateway({ address: "127.0.0.1:7400", port: 8080, token: process.env.TOKEN });
 * const { port } = await gateway.start();
 * // curl -H "Authorization: Bearer $TOKEN" localhost:8080/v1/projects
 * await gateway.stop();
 * ```
 */
export interface Gateway {
  readonly state: GatewayState;
  /** The fastify instance (for `inject` in tests); routes are ready once `start()` resolved. */
  readonly app: FastifyInstance;
  /** Listens; resolves with the bound port and `host:port`. */
  start(): Promise<{ port: number; address: string }>;
  /**
   * Drains: ends every subscription, stops taking requests, lets the ones in flight finish, then
   * flushes and closes the publishers (for at most `commitTimeoutMs`). Idempotent.
   */
  stop(): Promise<void>;
}

const OPENAPI_DESCRIPTION =
  "Deploy ESP projects onto the espmesh mesh, publish events into source windows, read window state and " +
  'follow window output. Every error answers `{"error": {"code", "message", "details"}}`.';

function buildApp(config: CompiledGatewayOptions, context: RouteContext): { app: FastifyInstance; inFlight: InFlight } {
  // Connections are closed by force only after the drain let every request in flight finish.
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimit,
    forceCloseConnections: true,
    return503OnClosing: false,
  });
  installErrorHandlers(app, (error, url) => {
    // The mesh being unreachable or slow is an operational condition, not a gateway fault.
    const transient = error.code === "UNAVAILABLE" || error.code === "DEADLINE_EXCEEDED";
    if (transient) config.logger.warn({ err: error, url }, "request failed");
    else config.logger.error({ err: error, url }, "request failed");
  });
  installTextParsers(app);
  const inFlight = trackInFlight(app);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    context.metrics.request(route, request.method, reply.statusCode, reply.elapsedTime);
  });
  void app.register(swagger, {
    openapi: {
      info: { title: "espmesh gateway", version: "0.1.0", description: OPENAPI_DESCRIPTION },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
      ...(config.token === undefined ? {} : { security: [{ bearerAuth: [] }] }),
      tags: [
        { name: "projects", description: "Deployments" },
        { name: "events", description: "Publishing, state and subscriptions" },
        { name: "health", description: "Probes and metrics (open without a token)" },
      ],
    },
  });
  void app.register(swaggerUi, { routePrefix: "/docs" });
  void app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // Routes and their request hooks go in a plugin loaded after swagger and websocket, so both see
  // every route, and the WebSocket plugin marks an upgrade request before a hook may refuse it
  // (it then closes the socket; otherwise a refused upgrade would keep its socket open).
  void app.register(async (scope) => {
    scope.addHook("onRequest", async (_request, reply) => {
      if (context.isRunning()) return;
      reply.header("connection", "close");
      throw new MeshError("UNAVAILABLE", "the gateway is stopping");
    });
    if (config.token !== undefined) installBearerAuth(scope, config.token);
    registerHealthRoutes(scope, context);
    registerProjectRoutes(scope, context);
    registerEventRoutes(scope, context);
    registerSubscriptionRoutes(scope, context);
  });
  return { app, inFlight };
}

/** Creates a {@link Gateway}; nothing listens until `start()`. */
export function createGateway(options: GatewayOptions): Gateway {
  const config = compileGatewayOptions(options);
  const { logger } = config;
  const ownsClient = config.mesh.kind === "address";
  const client: EspClient =
    config.mesh.kind === "client"
      ? config.mesh.client
      : createClient({
          address: config.mesh.address,
          ...(config.mesh.balancerAddress === undefined ? {} : { balancerAddress: config.mesh.balancerAddress }),
          ...(config.mesh.token === undefined ? {} : { token: config.mesh.token }),
          logger,
        });
  const windows = createMeshWindows({ client, publisher: config.publisher, logger });
  const stopController = new AbortController();
  let state: GatewayState = "created";
  let stopping: Promise<void> | undefined;

  const context: RouteContext = {
    client,
    windows,
    config,
    logger,
    metrics: createGatewayMetrics(),
    stopping: stopController.signal,
    isRunning: () => state === "running",
  };
  const { app, inFlight } = buildApp(config, context);

  const drain = async () => {
    const wasListening = state === "running" || state === "starting";
    state = "draining";
    stopController.abort(new MeshError("UNAVAILABLE", "the gateway is stopping"));
    try {
      if (wasListening) {
        // Subscriptions end at once (aborted above); requests waiting for a commit get up to commitTimeoutMs.
        if (!(await inFlight.settled(config.commitTimeoutMs))) {
          logger.warn({ requests: inFlight.count }, "requests still in flight at stop; closing their connections");
        }
        await app.close();
      }
      await windows.close(config.commitTimeoutMs);
    } finally {
      if (ownsClient) client.close();
      state = "stopped";
      logger.info("gateway stopped");
    }
  };

  return {
    get state() {
      return state;
    },
    app,
    async start() {
      if (state !== "created") throw new MeshError("FAILED_PRECONDITION", `the gateway cannot start when ${state}`);
      state = "starting";
      try {
        await app.listen({ host: config.host, port: config.port });
      } catch (error) {
        state = "stopped";
        await app.close();
        if (ownsClient) client.close();
        throw new MeshError(
          "UNAVAILABLE",
          `the gateway cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      state = "running";
      const { port } = app.server.address() as AddressInfo;
      const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
      logger.info({ host: config.host, port }, "gateway listening");
      return { port, address: `${host.includes(":") ? `[${host}]` : host}:${port}` };
    },
    stop() {
      stopping ??= drain();
      return stopping;
    },
  };
}
