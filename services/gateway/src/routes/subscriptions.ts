import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { Event } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import type { FastifyInstance } from "fastify";
import { errorResponseSchema } from "../http-errors.js";
import { eventToJson } from "../rows-json.js";
import { windowParams } from "./events.js";
import type { RouteContext } from "./route-context.js";

/** The part of a `ws` WebSocket the gateway uses. */
interface SubscriberSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, callback?: (error?: Error) => void): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  on(event: "close", listener: () => void): void;
}

interface SubscribeQuery {
  snapshot?: boolean;
}

/** WebSocket ready state OPEN. */
const OPEN = 1;
/** Bytes queued on a WebSocket before the gateway waits for them to be written. */
const WS_HIGH_WATER = 1024 * 1024;

/** An AbortSignal that fires when either the gateway stops or the subscriber goes away. */
function subscriptionSignal(stopping: AbortSignal): { signal: AbortSignal; abort: () => void } {
  const controller = new AbortController();
  return { signal: AbortSignal.any([stopping, controller.signal]), abort: () => controller.abort() };
}

/** Writes one SSE frame, batching the frames of one tick into one socket write. */
async function writeSse(raw: ServerResponse, frame: string): Promise<void> {
  if (raw.writableCorked === 0) {
    raw.cork();
    setImmediate(() => raw.uncork());
  }
  if (!raw.write(frame)) await Promise.race([once(raw, "drain"), once(raw, "close")]);
}

/**
 * `GET .../windows/{window}/events`: the window's output events as server-sent events (one
 * `data: {"opcode", "fields"}` frame per event), or as WebSocket text messages when the request
 * is an upgrade. Unknown project or window: 404 before the stream starts.
 */
export function registerSubscriptionRoutes(app: FastifyInstance, context: RouteContext): void {
  const { client, windows, config, metrics, logger, stopping } = context;

  const events = (project: string, window: string, signal: AbortSignal, snapshot: boolean): AsyncIterable<Event> =>
    client.subscribe(project, window, { signal, snapshot });

  const streamSse = async (raw: ServerResponse, project: string, window: string, snapshot: boolean) => {
    const { signal, abort } = subscriptionSignal(stopping);
    raw.on("close", abort);
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    raw.write(": subscribed\n\n");
    const heartbeat = setInterval(() => raw.write(": keep-alive\n\n"), config.heartbeatMs);
    metrics.subscribers("sse", 1);
    try {
      for await (const event of events(project, window, signal, snapshot)) {
        if (signal.aborted) break;
        await writeSse(raw, `data: ${JSON.stringify(eventToJson(event))}\n\n`);
      }
    } catch (error) {
      if (!signal.aborted) {
        const failure = MeshError.from(error);
        logger.warn({ err: failure, project, window }, "SSE subscription failed");
        raw.write(`event: error\ndata: ${JSON.stringify(failure.toJSON())}\n\n`);
      }
    } finally {
      clearInterval(heartbeat);
      raw.off("close", abort);
      metrics.subscribers("sse", -1);
      raw.end();
    }
  };

  const streamWebSocket = async (socket: SubscriberSocket, project: string, window: string, snapshot: boolean) => {
    const { signal, abort } = subscriptionSignal(stopping);
    socket.on("close", abort);
    const heartbeat = setInterval(() => socket.ping(), config.heartbeatMs);
    metrics.subscribers("websocket", 1);
    try {
      for await (const event of events(project, window, signal, snapshot)) {
        if (signal.aborted || socket.readyState !== OPEN) break;
        const message = JSON.stringify(eventToJson(event));
        if (socket.bufferedAmount < WS_HIGH_WATER) socket.send(message);
        else await new Promise<void>((resolve) => socket.send(message, () => resolve()));
      }
      if (socket.readyState === OPEN) socket.close(1000, signal.aborted ? "gateway stopping" : "subscription ended");
    } catch (error) {
      if (!signal.aborted && socket.readyState === OPEN) {
        const failure = MeshError.from(error);
        logger.warn({ err: failure, project, window }, "WebSocket subscription failed");
        socket.send(JSON.stringify(failure.toJSON()));
        socket.close(1011, failure.code);
      }
    } finally {
      clearInterval(heartbeat);
      metrics.subscribers("websocket", -1);
    }
  };

  app.route<{ Params: { name: string; window: string }; Querystring: SubscribeQuery }>({
    method: "GET",
    url: "/v1/projects/:name/windows/:window/events",
    schema: {
      summary: "Follow a window's output events (server-sent events, or a WebSocket on upgrade)",
      description:
        'Each event is `{"opcode": "insert|update|delete|upsert", "fields": {...}}`: one SSE `data:` frame, ' +
        "or one WebSocket text message. A failure of the subscription arrives as an SSE `error` event (or " +
        "WebSocket message) in the one error shape. Browsers may pass the token as `access_token`.",
      tags: ["events"],
      params: windowParams,
      querystring: {
        type: "object",
        properties: {
          snapshot: { type: "boolean", default: false, description: "Send the current rows (as inserts) first" },
          access_token: { type: "string", description: "The bearer token, for clients that cannot set headers" },
        },
      },
      produces: ["text/event-stream"],
      response: {
        200: { type: "string", description: "text/event-stream of events" },
        "4xx": errorResponseSchema,
        "5xx": errorResponseSchema,
      },
    },
    // Unknown project or window: 404 before the SSE stream starts or the WebSocket upgrades.
    preHandler: async (request) => {
      await windows.schema(request.params.name, request.params.window);
    },
    handler: async (request, reply) => {
      reply.hijack();
      await streamSse(reply.raw, request.params.name, request.params.window, request.query.snapshot === true);
    },
    wsHandler: (socket: SubscriberSocket, request) => {
      const { name, window } = request.params as { name: string; window: string };
      const snapshot = (request.query as SubscribeQuery).snapshot === true;
      return streamWebSocket(socket, name, window, snapshot);
    },
  });
}
