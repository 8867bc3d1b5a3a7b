import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MeshError } from "./errors.js";
import type { Logger } from "./logger.js";

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A node:http style request handler (also usable from fastify via `reply.raw`). */
export type PrometheusHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A handler that answers every request with the metrics text from `source` (status 200), or
 * status 500 and the reason when collecting fails. Mount it on the route you want, e.g. `/metrics`.
 */
export function createPrometheusHandler(source: () => Promise<string>, logger?: Logger): PrometheusHandler {
  return (_request, response) => {
    source().then(
      (text) => {
        response.statusCode = 200;
        response.setHeader("content-type", PROMETHEUS_CONTENT_TYPE);
        response.end(text);
      },
      (error: unknown) => {
        const reason = MeshError.from(error);
        logger?.error({ err: reason }, "collecting metrics failed");
        response.statusCode = 500;
        response.setHeader("content-type", "text/plain; charset=utf-8");
        response.end(`# collecting metrics failed: ${reason.message}\n`);
      },
    );
  };
}

/** A running `/metrics` HTTP endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` at `GET /metrics` on `host:port` (other paths answer 404). Rejects with
 * UNAVAILABLE naming the address when it cannot listen.
 */
export async function serveMetrics(handler: PrometheusHandler, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/metrics" && (request.method === "GET" || request.method === "HEAD")) {
      handler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      reject(
        new MeshError("UNAVAILABLE", `cannot serve /metrics on ${host}:${port}: ${error.message}`, { cause: error }),
      );
    };
    server.once("error", onError);
    server.listen({ host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost}:${bound}/metrics`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
