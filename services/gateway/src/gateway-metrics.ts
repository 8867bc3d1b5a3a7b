import { getMeter } from "@espmesh/telemetry";

/** The gateway's instruments; they record once a service has started telemetry. */
export interface GatewayMetrics {
  /** One finished HTTP request. */
  request(route: string, method: string, status: number, millis: number): void;
  /** Events accepted into a source window. */
  eventsAccepted(project: string, window: string, count: number): void;
  /** A subscriber joined (+1) or left (-1). */
  subscribers(transport: "sse" | "websocket", delta: 1 | -1): void;
}

/** Creates the {@link GatewayMetrics} on the `@espmesh/gateway` meter. */
export function createGatewayMetrics(): GatewayMetrics {
  const meter = getMeter("@espmesh/gateway");
  const requests = meter.createCounter("espmesh_gateway_requests", { description: "HTTP requests answered" });
  const latency = meter.createHistogram("espmesh_gateway_request_ms", {
    description: "HTTP request latency",
    unit: "ms",
  });
  const events = meter.createCounter("espmesh_gateway_events_accepted", {
    description: "events accepted per source window",
  });
  const subscribers = meter.createUpDownCounter("espmesh_gateway_subscribers", {
    description: "open SSE and WebSocket subscriptions",
  });
  return {
    request(route, method, status, millis) {
      const attributes = { route, method, status: String(status) };
      requests.add(1, attributes);
      latency.record(millis, attributes);
    },
    eventsAccepted(project, window, count) {
      events.add(count, { project, window });
    },
    subscribers(transport, delta) {
      subscribers.add(delta, { transport });
    },
  };
}
