import type { OpcodeName, Row } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import type { FastifyInstance } from "fastify";
import { kindOf, TEXT_MEDIA_TYPES } from "../content-types.js";
import { readEventRows } from "../event-rows.js";
import { errorResponseSchema } from "../http-errors.js";
import { rowToJson } from "../rows-json.js";
import type { RouteContext } from "./route-context.js";

const EVENT_MEDIA_TYPES = {
  json: ["application/json"],
  ndjson: TEXT_MEDIA_TYPES.ndjson,
  csv: TEXT_MEDIA_TYPES.csv,
} as const;

/** Path parameters of the window routes. */
export const windowParams = {
  type: "object",
  properties: {
    name: { type: "string", description: "Deployment (project) name" },
    window: { type: "string", description: "Window name" },
  },
  required: ["name", "window"],
} as const;

const errors = { "4xx": errorResponseSchema, "5xx": errorResponseSchema } as const;
const rowSchema = { type: "object", additionalProperties: true, description: "Field values by name" } as const;
const acceptedSchema = {
  type: "object",
  properties: { accepted: { type: "integer", description: "Events accepted from the request" } },
} as const;

interface PublishQuery {
  wait?: boolean;
  opcode?: OpcodeName;
}

/** Rows per publish() call, so the publisher's backpressure applies within a large request. */
const CHUNK = 1000;

/** Resolves with `work`, or rejects with DEADLINE_EXCEEDED after `millis` (work keeps running). */
async function within<T>(
  work: Promise<T>,
  millis: number,
  message: string,
  onLate: (error: unknown) => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new MeshError("DEADLINE_EXCEEDED", message)), millis);
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    // A late failure of the work is still reported, to the log.
    if (error instanceof MeshError && error.code === "DEADLINE_EXCEEDED") work.catch(onLate);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** `POST .../windows/{window}/events` (publish) and `GET .../windows/{window}/state` (query). */
export function registerEventRoutes(app: FastifyInstance, context: RouteContext): void {
  const { client, windows, config, metrics, logger } = context;

  app.post<{ Params: { name: string; window: string }; Querystring: PublishQuery; Body: unknown }>(
    "/v1/projects/:name/windows/:window/events",
    {
      schema: {
        summary: "Publish events into a source window",
        description:
          "A JSON array of objects by field name (optional `_opcode`: insert, update, delete, upsert), NDJSON " +
          "(one object per line) or CSV with a header row (optional `opcode` column). The whole request is " +
          "validated first: a bad row fails it with 400 naming the row (1-based) and field, and nothing of it " +
          "is applied. 200 once the mesh committed the events; with `wait=false`, 202 once they are accepted.",
        tags: ["events"],
        params: windowParams,
        querystring: {
          type: "object",
          properties: {
            wait: { type: "boolean", default: true, description: "Answer once committed (200) or accepted (202)" },
            opcode: {
              type: "string",
              enum: ["insert", "update", "delete", "upsert"],
              description: "Opcode of rows that give none (default insert)",
            },
          },
        },
        body: {
          content: {
            "application/json": { schema: { type: "array", items: rowSchema } },
            "application/x-ndjson": { schema: { type: "string", description: "One JSON object per line" } },
            "text/csv": { schema: { type: "string", description: "A header row of field names, then rows" } },
          },
        },
        response: { 200: acceptedSchema, 202: acceptedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { name: project, window } = request.params;
      const format = kindOf(request, EVENT_MEDIA_TYPES);
      const source = await windows.source(project, window);
      const rows: Row[] = readEventRows(format, request.body, source.schema, window, request.query.opcode);
      const wait = request.query.wait !== false;
      try {
        for (let start = 0; start < rows.length; start += CHUNK) {
          await source.publisher.publish(rows.slice(start, start + CHUNK));
        }
        if (wait && rows.length > 0) {
          await within(
            source.publisher.flush(),
            config.commitTimeoutMs,
            `window "${window}": the events were accepted but not committed within ${config.commitTimeoutMs} ms; ` +
              "they stay queued and will be delivered",
            (error) => logger.warn({ err: MeshError.from(error), project, window }, "late publish failure"),
          );
        }
      } catch (error) {
        const failure = MeshError.from(error);
        if (failure.code !== "DEADLINE_EXCEEDED") windows.discard(project, window, source);
        throw failure;
      }
      metrics.eventsAccepted(project, window, rows.length);
      return reply.code(wait ? 200 : 202).send({ accepted: rows.length });
    },
  );

  app.get<{ Params: { name: string; window: string }; Querystring: { limit?: number } }>(
    "/v1/projects/:name/windows/:window/state",
    {
      schema: {
        summary: "The current rows of a window, merged across workers",
        tags: ["events"],
        params: windowParams,
        querystring: {
          type: "object",
          properties: { limit: { type: "integer", minimum: 0, description: "Rows at most (0: all)" } },
        },
        response: { 200: { type: "array", items: rowSchema }, ...errors },
      },
    },
    async (request) => {
      const { name: project, window } = request.params;
      const rows = await client.query(project, window, { limit: request.query.limit ?? 0 });
      return rows.map(rowToJson);
    },
  );
}
