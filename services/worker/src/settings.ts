import type { ProjectModel } from "@espmesh/engine";
import { MeshError } from "@espmesh/telemetry";
import type { OutputBindingSetting } from "./output-bindings.js";

/** What a worker takes from the deployment settings (the control plane validated them). */
export interface WorkerSettings {
  /** Hash fields per source window that sets them. */
  readonly hashFields: Record<string, readonly string[]>;
  /** Source windows routed by multicast. */
  readonly multicastSources: readonly string[];
  readonly state: "service" | "none";
  readonly shards: number;
  readonly checkpointIntervalMs: number;
  /** Output bindings by window (`bindings.outputs`): where the window's events are published. */
  readonly outputBindings: Readonly<Record<string, OutputBindingSetting>>;
}

interface RawSettings {
  bindings?: { outputs?: Record<string, { subject?: unknown; stream?: unknown }> };
  routing?: Record<string, { policy?: string; hashFields?: string[] }>;
  state?: string;
  shards?: number;
  checkpointIntervalMs?: number;
}

/** Reads the deployment settings JSON a worker is started with. */
export function parseWorkerSettings(json: string, model: ProjectModel): WorkerSettings {
  let raw: RawSettings;
  try {
    raw = JSON.parse(json) as RawSettings;
  } catch (error) {
    throw new MeshError("INVALID_ARGUMENT", `deployment settings are not JSON: ${(error as Error).message}`);
  }
  const hashFields: Record<string, readonly string[]> = {};
  const multicastSources: string[] = [];
  for (const [window, routing] of Object.entries(raw.routing ?? {})) {
    if (!model.sources.includes(window)) {
      throw new MeshError("INVALID_ARGUMENT", `settings route window "${window}", which is not a source window`, {
        details: { window },
      });
    }
    if (routing.policy === "multicast") multicastSources.push(window);
    if (routing.hashFields && routing.hashFields.length > 0) hashFields[window] = routing.hashFields;
  }
  const outputBindings: Record<string, OutputBindingSetting> = {};
  for (const [window, binding] of Object.entries(raw.bindings?.outputs ?? {})) {
    if (model.window(window) === undefined) {
      throw new MeshError("INVALID_ARGUMENT", `settings bind the output of window "${window}", which does not exist`, {
        details: { window, field: "bindings.outputs" },
      });
    }
    if (typeof binding?.subject !== "string" || binding.subject === "") {
      throw new MeshError("INVALID_ARGUMENT", `bindings.outputs.${window}.subject must be a subject name`, {
        details: { window, field: "subject" },
      });
    }
    outputBindings[window] = {
      subject: binding.subject,
      ...(typeof binding.stream === "string" && binding.stream !== "" ? { stream: binding.stream } : {}),
    };
  }
  return {
    outputBindings,
    hashFields,
    multicastSources,
    state: raw.state === "none" ? "none" : "service",
    shards: raw.shards ?? 4096,
    checkpointIntervalMs: raw.checkpointIntervalMs ?? 100,
  };
}
