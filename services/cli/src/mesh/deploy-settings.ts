import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { loadProject } from "@espmesh/engine";
import { MeshError } from "@espmesh/telemetry";

/** The settings flags of `espmesh deploy`, as commander parsed them (strings). */
export interface DeployFlags {
  readonly policy?: string;
  readonly hashFields?: string;
  readonly minReplicas?: string;
  readonly maxReplicas?: string;
  readonly targetCpu?: string;
  /** JSON text, or `@file` naming a JSON file. */
  readonly settings?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function integerFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new MeshError("INVALID_ARGUMENT", `--${flag} must be an integer, got "${text}"`, {
      details: { field: flag },
    });
  }
  return value;
}

async function settingsJson(text: string): Promise<Record<string, unknown>> {
  const source = text.startsWith("@") ? text.slice(1) : undefined;
  let json = text;
  if (source !== undefined) {
    try {
      json = await readFile(source, "utf8");
    } catch (error) {
      throw new MeshError("INVALID_ARGUMENT", `--settings: cannot read ${source}: ${(error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `--settings${source === undefined ? "" : ` (${source})`} is not JSON: ${(error as Error).message}`,
    );
  }
  if (!isRecord(parsed)) throw new MeshError("INVALID_ARGUMENT", "--settings must be a JSON object");
  return parsed;
}

/**
 * The deployment settings of `espmesh deploy`: `--settings` (JSON or `@file`) with the flags
 * applied on top. `--policy` and `--hash-fields` apply to every source window of the project, so
 * the project text is loaded (a broken project is refused here with the loader's message).
 * Everything else is validated by the control plane.
 */
export async function deploySettings(project: string, flags: DeployFlags): Promise<Record<string, unknown>> {
  const settings = flags.settings === undefined ? {} : await settingsJson(flags.settings);
  const minReplicas = integerFlag("min-replicas", flags.minReplicas);
  const maxReplicas = integerFlag("max-replicas", flags.maxReplicas);
  const targetCpu = integerFlag("target-cpu", flags.targetCpu);
  if (minReplicas !== undefined) settings.minReplicas = minReplicas;
  if (maxReplicas !== undefined) settings.maxReplicas = maxReplicas;
  if (targetCpu !== undefined) settings.targetCpuUtilization = targetCpu;
  if (flags.policy !== undefined || flags.hashFields !== undefined) {
    const model = loadProject(project);
    const hashFields = flags.hashFields
      ?.split(",")
      .map((field) => field.trim())
      .filter((field) => field !== "");
    const routing: Record<string, unknown> = isRecord(settings.routing) ? { ...settings.routing } : {};
    for (const source of model.sources) {
      const current = isRecord(routing[source]) ? routing[source] : {};
      routing[source] = {
        ...current,
        ...(flags.policy === undefined ? {} : { policy: flags.policy }),
        ...(hashFields === undefined ? {} : { hashFields }),
      };
    }
    settings.routing = routing;
  }
  return settings;
}

/**
 * The deployment name of a project file when `--name` is not given: the file name without its
 * extension, lower-cased, every run of other characters than letters and digits made one `-`.
 */
export function deploymentNameOf(file: string): string {
  const name = basename(file, extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+|-+$/g, "");
  if (name === "") {
    throw new MeshError("INVALID_ARGUMENT", `cannot name a deployment after "${file}"; give --name`);
  }
  return name;
}
