import { MeshError } from "@espmesh/telemetry";

/** A field of a source window that a derived field copies. */
export interface FieldSourceShape {
  readonly window: string;
  readonly field: string;
}

/**
 * A key partitioning a stateful window's state: its fields and, per field, the source-window
 * fields whose values it copies (empty when the field is computed).
 */
export interface StateKeyShape {
  /** What the key is, for messages: "group-by", "key", "left join condition", ... */
  readonly role: string;
  readonly fields: readonly string[];
  readonly sources: readonly (readonly FieldSourceShape[])[];
}

/** The parts of a window the control plane validates settings against. */
export interface WindowShape {
  readonly name: string;
  readonly kind: string;
  /** Input windows in order (a join: left, then right). */
  readonly inputs: readonly string[];
  /** Output schema; field types are ESP type names (`int64`, `string`, ...). */
  readonly schema: {
    readonly fields: readonly { readonly name: string; readonly type: string; readonly key: boolean }[];
  };
  readonly keyFields: readonly string[];
  readonly stateful: boolean;
  readonly stateKeys: readonly StateKeyShape[];
}

/**
 * The parts of a loaded project the control plane needs. The engine's `ProjectModel`
 * (`@espmesh/engine`) has this shape, so a model from `loadProject` can be passed as is.
 */
export interface ProjectShape {
  readonly name: string;
  readonly windows: readonly WindowShape[];
  /** Names of the windows without inputs. */
  readonly sources: readonly string[];
}

/** Project text formats. */
export type ProjectFormat = "xml" | "yaml" | "json";

/** A loaded project and the format it was read from. */
export interface LoadedProject {
  readonly model: ProjectShape;
  readonly format: ProjectFormat;
}

/** Turns project text into a model; throws MeshError INVALID_ARGUMENT on a bad project. */
export type ProjectLoader = (text: string, name: string) => LoadedProject | Promise<LoadedProject>;

interface EngineModule {
  loadProject?: (text: string, options?: { name?: string }) => ProjectShape;
  sniffFormat?: (text: string) => ProjectFormat;
}

/** The default loader: `loadProject` of `@espmesh/engine` (XML, YAML or JSON, sniffed). */
export const engineProjectLoader: ProjectLoader = async (text, name) => {
  const specifier = "@espmesh/engine";
  const engine = (await import(specifier)) as EngineModule;
  if (engine.loadProject === undefined) {
    throw new MeshError("UNIMPLEMENTED", "@espmesh/engine does not export loadProject");
  }
  const model = engine.loadProject(text, { name });
  const format = engine.sniffFormat?.(text) ?? (text.trimStart().startsWith("<") ? "xml" : "yaml");
  return { model, format };
};

/** The windows upstream of `window` that have no inputs (itself if it is a source). */
export function upstreamSources(project: ProjectShape, window: string): string[] {
  const byName = new Map(project.windows.map((candidate) => [candidate.name, candidate]));
  const found = new Set<string>();
  const seen = new Set<string>();
  const stack = [window];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const current = byName.get(name);
    if (current === undefined) continue;
    if (current.inputs.length === 0) found.add(name);
    stack.push(...current.inputs);
  }
  return [...found].sort();
}
