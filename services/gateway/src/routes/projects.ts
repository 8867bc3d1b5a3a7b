import { MeshError } from "@espmesh/telemetry";
import type { FastifyInstance } from "fastify";
import { kindOf, TEXT_MEDIA_TYPES } from "../content-types.js";
import { type DeployQuery, deployBodySchema, deployQuerySchema, readDeployRequest } from "../deploy-request.js";
import { errorResponseSchema } from "../http-errors.js";
import { deploymentStatusSchema, statusToJson } from "../status-json.js";
import type { RouteContext } from "./route-context.js";

const PROJECT_MEDIA_TYPES = {
  body: ["application/json"],
  xml: TEXT_MEDIA_TYPES.xml,
  yaml: TEXT_MEDIA_TYPES.yaml,
} as const;

const nameParams = {
  type: "object",
  properties: { name: { type: "string", description: "Deployment (project) name" } },
  required: ["name"],
} as const;

const errors = { "4xx": errorResponseSchema, "5xx": errorResponseSchema } as const;

/** `PUT/GET/DELETE /v1/projects/{name}` and `GET /v1/projects`: deployments through the control plane. */
export function registerProjectRoutes(app: FastifyInstance, context: RouteContext): void {
  const { client, windows } = context;

  app.put<{ Params: { name: string }; Querystring: DeployQuery; Body: unknown }>(
    "/v1/projects/:name",
    {
      schema: {
        summary: "Deploy or replace a project",
        description:
          'JSON `{"project": "<XML or YAML text>", "settings": {...}}`, or the raw XML or YAML project with ' +
          "settings as query parameters (policy and hashFields apply to every source window). " +
          "201 when created, 200 when an existing deployment was replaced.",
        tags: ["projects"],
        params: nameParams,
        querystring: deployQuerySchema,
        body: {
          content: {
            "application/json": { schema: deployBodySchema },
            "application/xml": { schema: { type: "string", description: "ESP XML project" } },
            "application/yaml": { schema: { type: "string", description: "YAML project" } },
          },
        },
        response: { 200: deploymentStatusSchema, 201: deploymentStatusSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const kind = kindOf(request, PROJECT_MEDIA_TYPES);
      const { project, settings } = readDeployRequest(kind, request.body, request.query);
      const existed = await client.status(name).then(
        () => true,
        (error: unknown) => {
          if (MeshError.from(error).code === "NOT_FOUND") return false;
          throw error;
        },
      );
      const status = await client.deploy(name, project, settings);
      windows.forget(name);
      return reply.code(existed ? 200 : 201).send(statusToJson(status));
    },
  );

  app.get(
    "/v1/projects",
    {
      schema: {
        summary: "List deployments",
        tags: ["projects"],
        response: {
          200: { type: "object", properties: { projects: { type: "array", items: deploymentStatusSchema } } },
          ...errors,
        },
      },
    },
    async () => ({ projects: (await client.list()).map(statusToJson) }),
  );

  app.get<{ Params: { name: string } }>(
    "/v1/projects/:name",
    {
      schema: {
        summary: "A deployment's status, including its workers",
        tags: ["projects"],
        params: nameParams,
        response: { 200: deploymentStatusSchema, ...errors },
      },
    },
    async (request) => statusToJson(await client.status(request.params.name)),
  );

  app.delete<{ Params: { name: string } }>(
    "/v1/projects/:name",
    {
      schema: {
        summary: "Delete a deployment",
        tags: ["projects"],
        params: nameParams,
        response: { 204: { type: "null", description: "Deleted" }, ...errors },
      },
    },
    async (request, reply) => {
      await client.delete(request.params.name);
      windows.forget(request.params.name);
      return reply.code(204).send();
    },
  );
}
