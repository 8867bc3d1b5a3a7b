import { MeshError } from "@espmesh/telemetry";
import { type BindingSettings, type CompiledBindings, compileBindings } from "./binding-settings.js";
import type { ProjectShape, WindowShape } from "./project-shape.js";
import { checkCoverage, checkJoinColocation } from "./routing-coverage.js";

/** How a source window's events are spread over the workers. */
export type RoutingPolicyName = "round-robin" | "multicast" | "hash" | "consistent-hash";

/** Every routing policy, in the order messages list them. */
export const ROUTING_POLICIES: readonly RoutingPolicyName[] = ["round-robin", "multicast", "hash", "consistent-hash"];

/** Where windows keep their state. */
export type StateBackendName = "service" | "none";

/** Routing of one source window, as written in the settings JSON. */
export interface RoutingSetting {
  /** @default "consistent-hash" */
  policy?: RoutingPolicyName;
  /** Fields hashed by `hash` and `consistent-hash`. @default the window's key fields */
  hashFields?: string[];
}

/**
 * Deployment settings exactly as they travel in JSON (API, CRD, files). Every member is optional.
 */
export interface DeploymentSettings {
  /** Per source window. A source without an entry gets consistent-hash on its key fields. */
  routing?: Record<string, RoutingSetting>;
  /** @default 1 */
  minReplicas?: number;
  /** @default max(1, minReplicas) */
  maxReplicas?: number;
  /** Average worker CPU, in percent of one core, that autoscaling aims at. @default 70 */
  targetCpuUtilization?: number;
  /** `service`: checkpointed through the state service; `none`: state dies with its worker. @default "service" */
  state?: StateBackendName;
  /** Shard count, fixed for the deployment's life. @default 4096 */
  shards?: number;
  /** How often workers commit dirty shards. @default 100 */
  checkpointIntervalMs?: number;
  /**
   * Cascades (DESIGN §9): window outputs published to JetStream subjects, source windows read from
   * durable consumers. Processes get the NATS URL from ESPMESH_NATS_URL. @default none
   */
  bindings?: BindingSettings;
}

/** Routing of one source window with defaults applied. */
export interface CompiledRouting {
  readonly policy: RoutingPolicyName;
  /** Empty for round-robin and multicast. */
  readonly hashFields: readonly string[];
}

/** Deployment settings with every default applied, checked against the project. */
export interface CompiledDeploymentSettings {
  /** One entry per source window of the project. */
  readonly routing: Readonly<Record<string, CompiledRouting>>;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetCpuUtilization: number;
  readonly state: StateBackendName;
  readonly shards: number;
  readonly checkpointIntervalMs: number;
  /** Present only when the settings have bindings. */
  readonly bindings?: CompiledBindings;
}

/** One thing wrong with the settings. */
export interface SettingsProblem {
  readonly message: string;
  readonly window?: string;
  readonly field?: string;
}

const KNOWN_KEYS = [
  "routing",
  "minReplicas",
  "maxReplicas",
  "targetCpuUtilization",
  "state",
  "shards",
  "checkpointIntervalMs",
  "bindings",
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(names: readonly string[]): string {
  return names.join(", ");
}

function integerSetting(
  raw: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max: number,
  problems: SettingsProblem[],
): number {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.push({ message: `${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}` });
    return fallback;
  }
  return value;
}

function compileRouting(
  raw: unknown,
  project: ProjectShape,
  problems: SettingsProblem[],
): Record<string, CompiledRouting> {
  const byName = new Map(project.windows.map((window) => [window.name, window]));
  const entries: Record<string, unknown> = raw === undefined ? {} : isRecord(raw) ? raw : {};
  if (raw !== undefined && !isRecord(raw))
    problems.push({ message: "routing must be an object keyed by source window" });
  for (const name of Object.keys(entries)) {
    const window = byName.get(name);
    if (window === undefined) {
      problems.push({
        window: name,
        message: `routing: unknown window "${name}"; source windows: ${list(project.sources)}`,
      });
    } else if (window.inputs.length > 0) {
      problems.push({
        window: name,
        message: `routing: window "${name}" is not a source window; routing is set per source window (${list(project.sources)})`,
      });
    }
  }
  const routing: Record<string, CompiledRouting> = {};
  for (const source of project.sources) {
    const window = byName.get(source);
    if (window === undefined) continue;
    const entry = entries[source];
    if (entry !== undefined && !isRecord(entry)) {
      problems.push({ window: source, message: `routing.${source} must be an object {policy, hashFields}` });
      continue;
    }
    routing[source] = compileOneRouting(window, entry ?? {}, problems);
  }
  return routing;
}

function compileOneRouting(
  window: WindowShape,
  entry: Record<string, unknown>,
  problems: SettingsProblem[],
): CompiledRouting {
  const name = window.name;
  for (const key of Object.keys(entry)) {
    if (key !== "policy" && key !== "hashFields") {
      problems.push({ window: name, message: `routing.${name}: unknown setting "${key}"; known: policy, hashFields` });
    }
  }
  const rawPolicy = entry.policy ?? "consistent-hash";
  if (typeof rawPolicy !== "string" || !(ROUTING_POLICIES as readonly string[]).includes(rawPolicy)) {
    problems.push({
      window: name,
      message: `routing.${name}.policy: unknown policy ${JSON.stringify(rawPolicy)}; expected ${list(ROUTING_POLICIES)}`,
    });
    return { policy: "consistent-hash", hashFields: [] };
  }
  const policy = rawPolicy as RoutingPolicyName;
  const rawFields = entry.hashFields;
  if (rawFields !== undefined && (!Array.isArray(rawFields) || rawFields.some((field) => typeof field !== "string"))) {
    problems.push({ window: name, message: `routing.${name}.hashFields must be an array of field names` });
    return { policy, hashFields: [] };
  }
  const given = (rawFields ?? []) as string[];
  if (policy === "round-robin" || policy === "multicast") {
    if (given.length > 0) {
      problems.push({
        window: name,
        field: given[0] as string,
        message: `routing.${name}.hashFields: policy ${policy} hashes nothing; remove hashFields or use hash or consistent-hash`,
      });
    }
    return { policy, hashFields: [] };
  }
  const fieldNames = window.schema.fields.map((field) => field.name);
  for (const field of given) {
    if (!fieldNames.includes(field)) {
      problems.push({
        window: name,
        field,
        message: `routing.${name}.hashFields: window "${name}" has no field "${field}" (fields: ${list(fieldNames)})`,
      });
    }
  }
  const hashFields = rawFields === undefined ? [...window.keyFields] : given;
  if (hashFields.length === 0) {
    problems.push({
      window: name,
      message: `routing.${name}: policy ${policy} needs hashFields (window "${name}" has no key fields to default to)`,
    });
  }
  return { policy, hashFields };
}

/** Defaults a control plane applies to settings that leave them out. */
export interface SettingsDefaults {
  /**
   * Workers of a deployment whose settings name neither `minReplicas` nor `maxReplicas`: it
   * runs exactly this many (`espmesh up --workers N`). @default 1
   */
  readonly replicas?: number;
}

/**
 * Parses deployment settings JSON (or an already parsed object), applies the defaults and checks
 * them against the project. Every problem found is reported at once.
 * @throws MeshError INVALID_ARGUMENT whose message lists each problem naming its window and
 * fields; `details.problems` has them one by one, `details.window`/`field` the first's.
 */
export function compileDeploymentSettings(
  input: string | object | undefined,
  project: ProjectShape,
  defaults: SettingsDefaults = {},
): CompiledDeploymentSettings {
  let raw: unknown = input ?? {};
  if (typeof input === "string") {
    try {
      raw = input.trim() === "" ? {} : JSON.parse(input);
    } catch (error) {
      throw new MeshError("INVALID_ARGUMENT", `deployment settings are not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isRecord(raw)) throw new MeshError("INVALID_ARGUMENT", "deployment settings must be a JSON object");
  const problems: SettingsProblem[] = [];
  for (const key of Object.keys(raw)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      problems.push({ message: `unknown setting "${key}"; known: ${list(KNOWN_KEYS)}` });
    }
  }
  const routing = compileRouting(raw.routing, project, problems);
  // Replicas default to `defaults.replicas` only when the settings name neither bound.
  const fixed = "minReplicas" in raw || "maxReplicas" in raw ? 1 : (defaults.replicas ?? 1);
  const minReplicas = integerSetting(raw, "minReplicas", fixed, 1, 1000, problems);
  const maxReplicas = integerSetting(raw, "maxReplicas", Math.max(1, minReplicas), 1, 1000, problems);
  if (minReplicas > maxReplicas) {
    problems.push({ message: `minReplicas (${minReplicas}) is greater than maxReplicas (${maxReplicas})` });
  }
  const targetCpuUtilization = integerSetting(raw, "targetCpuUtilization", 70, 1, 1000, problems);
  const state = raw.state ?? "service";
  if (state !== "service" && state !== "none") {
    problems.push({ message: `state must be "service" or "none", not ${JSON.stringify(state)}` });
  }
  const shards = integerSetting(raw, "shards", 4096, 1, 1 << 20, problems);
  const checkpointIntervalMs = integerSetting(raw, "checkpointIntervalMs", 100, 1, 3_600_000, problems);
  const bindings = raw.bindings === undefined ? undefined : compileBindings(raw.bindings, project, problems);
  checkCoverage(project, routing, problems);
  checkJoinColocation(project, routing, problems);
  if (problems.length > 0) {
    const first = problems[0] as SettingsProblem;
    throw new MeshError(
      "INVALID_ARGUMENT",
      `invalid deployment settings: ${problems.map((p) => p.message).join("; ")}`,
      {
        details: {
          project: project.name,
          ...(first.window === undefined ? {} : { window: first.window }),
          ...(first.field === undefined ? {} : { field: first.field }),
          problems,
        },
      },
    );
  }
  return {
    routing,
    minReplicas,
    maxReplicas,
    targetCpuUtilization,
    state: state as StateBackendName,
    shards,
    checkpointIntervalMs,
    ...(bindings === undefined ? {} : { bindings }),
  };
}

/** The compiled settings as JSON, in the same shape users write. */
export function deploymentSettingsToJson(settings: CompiledDeploymentSettings): string {
  return JSON.stringify(settings);
}
