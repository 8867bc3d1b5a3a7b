/**
 * @packageDocumentation
 * `@espmesh/gateway`: the HTTP front door of espmesh (fastify). {@link createGateway} serves REST
 * for projects and events (JSON, NDJSON, CSV), SSE and WebSocket subscriptions, OpenAPI at
 * `/docs`, `/healthz`, `/readyz` and `/metrics`, with bearer-token auth, a body limit and one
 * error shape. It talks to the mesh through `@espmesh/client`.
 */
export { createGateway, type Gateway, type GatewayState } from "./gateway.js";
export {
  type CompiledGatewayOptions,
  compileGatewayOptions,
  DEFAULT_BODY_LIMIT,
  type GatewayOptions,
} from "./options.js";
export type { DeploymentStatusJson, WorkerJson } from "./status-json.js";
