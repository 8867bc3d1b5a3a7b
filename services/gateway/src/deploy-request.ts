import { loadProject, type ProjectFormat } from "@espmesh/engine";
import { MeshError } from "@espmesh/telemetry";

/** Settings given as query parameters of `PUT /v1/projects/{name}`. */
export interface DeployQuery {
  /** Routing policy of every source window. */
  policy?: string;
  /** Comma-separated hash fields of every source window. */
  hashFields?: string;
  minReplicas?: number;
  maxReplicas?: number;
  /** Target CPU utilisation in percent (`targetCpuUtilization` of the settings). */
  targetCpu?: number;
}

/** What a deploy request asks for. */
export interface DeployRequest {
  /** The project text (ESP XML, YAML or JSON). */
  readonly project: string;
  /** Deployment settings as the control plane defines them. */
  readonly settings: Record<string, unknown>;
}

/** The JSON schema of the query parameters, for validation and the OpenAPI document. */
export const deployQuerySchema = {
  type: "object",
  properties: {
    policy: {
      type: "string",
      enum: ["round-robin", "multicast", "hash", "consistent-hash"],
      description: "Routing policy of every source window",
    },
    hashFields: { type: "string", description: "Comma-separated hash fields of every source window" },
    minReplicas: { type: "integer", minimum: 0 },
    maxReplicas: { type: "integer", minimum: 1 },
    targetCpu: { type: "integer", minimum: 1, maximum: 1000, description: "Target CPU utilisation, percent" },
  },
} as const;

/** The JSON schema of the JSON body, for validation and the OpenAPI document. */
export const deployBodySchema = {
  type: "object",
  properties: {
    project: { type: "string", description: "The project: ESP XML, YAML or JSON text" },
    settings: {
      type: "object",
      additionalProperties: true,
      description:
        'Deployment settings: {"routing": {"<source window>": {"policy", "hashFields"}}, "minReplicas", ' +
        '"maxReplicas", "targetCpuUtilization", "state": "service|none", "shards", "checkpointIntervalMs"}',
    },
  },
  required: ["project"],
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The project text and settings of a deploy request: the JSON body `{project, settings}` or a raw
 * XML / YAML body, with the query parameters applied on top. `policy` and `hashFields` apply to
 * every source window of the project, so the project is loaded (and a broken one refused with the
 * loader's message) to learn its source windows.
 * @param format `json` for the `{project, settings}` body, else the raw body's format
 */
export function readDeployRequest(format: ProjectFormat | "body", body: unknown, query: DeployQuery): DeployRequest {
  let project: string;
  let settings: Record<string, unknown> = {};
  if (format === "body") {
    const parsed = body as { project: string; settings?: unknown };
    project = parsed.project;
    if (parsed.settings !== undefined) settings = { ...(parsed.settings as Record<string, unknown>) };
  } else {
    project = typeof body === "string" ? body : "";
  }
  if (project.trim() === "") throw new MeshError("INVALID_ARGUMENT", "the project text is empty");
  if (query.minReplicas !== undefined) settings.minReplicas = query.minReplicas;
  if (query.maxReplicas !== undefined) settings.maxReplicas = query.maxReplicas;
  if (query.targetCpu !== undefined) settings.targetCpuUtilization = query.targetCpu;
  if (query.policy !== undefined || query.hashFields !== undefined) {
    const model = loadProject(project, format === "body" ? {} : { format });
    const routing: Record<string, unknown> = isRecord(settings.routing) ? { ...settings.routing } : {};
    const hashFields = query.hashFields
      ?.split(",")
      .map((field) => field.trim())
      .filter((field) => field !== "");
    for (const source of model.sources) {
      const current = isRecord(routing[source]) ? (routing[source] as Record<string, unknown>) : {};
      routing[source] = {
        ...current,
        ...(query.policy === undefined ? {} : { policy: query.policy }),
        ...(hashFields === undefined ? {} : { hashFields }),
      };
    }
    settings.routing = routing;
  }
  return { project, settings };
}
