import type { ProjectShape } from "./project-shape.js";

/** A window's output published to a JetStream subject (`bindings.outputs.<window>`). */
export interface OutputBindingSetting {
  /** The subject (no wildcards). */
  subject: string;
  /** A stream the workers create, or extend, so that it stores `subject`. @default none: one must exist */
  stream?: string;
}

/** A source window fed from a durable JetStream consumer (`bindings.inputs.<source window>`). */
export interface InputBindingSetting {
  /** The stream read. */
  stream: string;
  /** Only messages on this subject (wildcards allowed); the balancer adds it to the stream. @default every subject */
  subject?: string;
  /** The durable consumer; the deployment's balancer is its only reader. */
  durable: string;
}

/** Cascade bindings (DESIGN §9), as written in the settings JSON. */
export interface BindingSettings {
  /** By window: where its events are published. */
  outputs?: Record<string, OutputBindingSetting>;
  /** By source window: the durable consumer it reads. */
  inputs?: Record<string, InputBindingSetting>;
}

/** {@link BindingSettings} checked against the project. */
export interface CompiledBindings {
  readonly outputs: Readonly<Record<string, OutputBindingSetting>>;
  readonly inputs: Readonly<Record<string, InputBindingSetting>>;
}

/** A problem found, in the shape of the settings' problems. */
interface Problem {
  readonly message: string;
  readonly window?: string;
  readonly field?: string;
}

const NAME = /^[^\s.*>/\\]+$/;
const SUBJECT = /^[^\s.]+(\.[^\s.]+)*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownKeys(
  entry: Record<string, unknown>,
  known: readonly string[],
  at: string,
  window: string,
  problems: Problem[],
): void {
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) {
      problems.push({ window, field: key, message: `${at}: unknown setting "${key}"; known: ${known.join(", ")}` });
    }
  }
}

function checkName(value: unknown, at: string, window: string, field: string, problems: Problem[]): value is string {
  if (typeof value === "string" && NAME.test(value)) return true;
  problems.push({
    window,
    field,
    message: `${at}.${field} must be a NATS name (no spaces, ".", "*", ">"), not ${JSON.stringify(value)}`,
  });
  return false;
}

function checkSubject(
  value: unknown,
  at: string,
  window: string,
  wildcards: boolean,
  problems: Problem[],
): value is string {
  const ok = typeof value === "string" && SUBJECT.test(value) && (wildcards || !/(^|\.)(\*|>)(\.|$)/.test(value));
  if (!ok) {
    problems.push({
      window,
      field: "subject",
      message: `${at}.subject must be a subject like "stage1.cost"${wildcards ? "" : " without wildcards"}, not ${JSON.stringify(value)}`,
    });
  }
  return ok;
}

function compileOutputs(
  raw: unknown,
  project: ProjectShape,
  problems: Problem[],
): Record<string, OutputBindingSetting> {
  const outputs: Record<string, OutputBindingSetting> = {};
  if (raw === undefined) return outputs;
  if (!isRecord(raw)) {
    problems.push({ message: "bindings.outputs must be an object keyed by window" });
    return outputs;
  }
  const windows = new Set(project.windows.map((window) => window.name));
  for (const [window, entry] of Object.entries(raw)) {
    const at = `bindings.outputs.${window}`;
    if (!windows.has(window)) {
      problems.push({ window, message: `${at}: unknown window "${window}"; windows: ${[...windows].join(", ")}` });
      continue;
    }
    if (!isRecord(entry)) {
      problems.push({ window, message: `${at} must be an object {subject, stream?}` });
      continue;
    }
    unknownKeys(entry, ["subject", "stream"], at, window, problems);
    const subjectOk = checkSubject(entry.subject, at, window, false, problems);
    const streamOk = entry.stream === undefined || checkName(entry.stream, at, window, "stream", problems);
    if (subjectOk && streamOk) {
      outputs[window] = {
        subject: entry.subject as string,
        ...(entry.stream === undefined ? {} : { stream: entry.stream as string }),
      };
    }
  }
  return outputs;
}

function compileInputs(raw: unknown, project: ProjectShape, problems: Problem[]): Record<string, InputBindingSetting> {
  const inputs: Record<string, InputBindingSetting> = {};
  if (raw === undefined) return inputs;
  if (!isRecord(raw)) {
    problems.push({ message: "bindings.inputs must be an object keyed by source window" });
    return inputs;
  }
  const readers = new Map<string, string>();
  for (const [window, entry] of Object.entries(raw)) {
    const at = `bindings.inputs.${window}`;
    if (!project.sources.includes(window)) {
      const kind = project.windows.some((w) => w.name === window) ? "is not a source window" : "is an unknown window";
      problems.push({
        window,
        message: `${at}: "${window}" ${kind}; only source windows (${project.sources.join(", ")}) can read a subject`,
      });
      continue;
    }
    if (!isRecord(entry)) {
      problems.push({ window, message: `${at} must be an object {stream, subject?, durable}` });
      continue;
    }
    unknownKeys(entry, ["stream", "subject", "durable"], at, window, problems);
    const streamOk = checkName(entry.stream, at, window, "stream", problems);
    const durableOk = checkName(entry.durable, at, window, "durable", problems);
    const subjectOk = entry.subject === undefined || checkSubject(entry.subject, at, window, true, problems);
    if (!(streamOk && durableOk && subjectOk)) continue;
    const reader = `${entry.stream as string}/${entry.durable as string}`;
    const other = readers.get(reader);
    if (other !== undefined) {
      problems.push({
        window,
        field: "durable",
        message: `${at}.durable: windows "${other}" and "${window}" read the same durable ${reader}; a durable has one reader`,
      });
      continue;
    }
    readers.set(reader, window);
    inputs[window] = {
      stream: entry.stream as string,
      durable: entry.durable as string,
      ...(entry.subject === undefined ? {} : { subject: entry.subject as string }),
    };
  }
  return inputs;
}

/**
 * Checks the `bindings` setting against the project: output bindings name existing windows and a
 * subject without wildcards (and optionally a stream); input bindings only source windows, each
 * with a stream and a durable no other window of the deployment reads. Problems are appended.
 */
export function compileBindings(raw: unknown, project: ProjectShape, problems: Problem[]): CompiledBindings {
  if (!isRecord(raw)) {
    problems.push({ message: "bindings must be an object {outputs?, inputs?}" });
    return { outputs: {}, inputs: {} };
  }
  for (const key of Object.keys(raw)) {
    if (key !== "outputs" && key !== "inputs") {
      problems.push({ message: `bindings: unknown setting "${key}"; known: outputs, inputs` });
    }
  }
  return {
    outputs: compileOutputs(raw.outputs, project, problems),
    inputs: compileInputs(raw.inputs, project, problems),
  };
}
