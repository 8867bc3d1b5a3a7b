import { loadError } from "../errors.js";
import { windowKind } from "../windows/registry.js";
import type { ProjectDef } from "./project-def.js";
import type { ProjectModel, QueryModel, WindowDef, WindowModel } from "./project-model.js";

/**
 * Resolves a project definition: unique window names, existing inputs, the right number of inputs
 * per kind, no cycles; then, in topological order, each window's schema, state and lineage.
 * @throws MeshError INVALID_ARGUMENT naming the window (and line when known).
 */
export function resolveProject(def: ProjectDef): ProjectModel {
  const defs = new Map<string, WindowDef>();
  for (const query of def.queries) {
    for (const window of query.windows) {
      const existing = defs.get(window.name);
      if (existing !== undefined) {
        throw loadError(
          `window name "${window.name}" is used twice (queries "${existing.query}" and "${window.query}"); window names must be unique in a project`,
          { line: window.line, window: window.name },
        );
      }
      defs.set(window.name, window);
    }
  }
  if (defs.size === 0) throw loadError("the project has no windows");
  const outputs = new Map<string, string[]>([...defs.keys()].map((name) => [name, []]));
  for (const window of defs.values()) {
    const kind = windowKind(window.kind);
    if (kind === undefined)
      throw loadError(`unknown window kind "${window.kind}"`, { line: window.line, window: window.name });
    const [min, max] = kind.inputs;
    if (window.inputs.length < min || window.inputs.length > max) {
      const expected =
        min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
      throw loadError(`a ${window.kind} window takes ${expected} input(s), it has ${window.inputs.length}`, {
        line: window.line,
        window: window.name,
      });
    }
    for (const input of window.inputs) {
      if (!defs.has(input))
        throw loadError(`input "${input}" is not a window`, { line: window.line, window: window.name });
      outputs.get(input)!.push(window.name);
    }
  }
  const order = topologicalOrder(defs);
  const resolved = new Map<string, WindowModel>();
  for (const name of order) {
    const window = defs.get(name)!;
    const kind = windowKind(window.kind)!;
    const inputs = window.inputs.map((input) => resolved.get(input)!);
    const result = kind.resolve(window, inputs);
    resolved.set(name, {
      ...window,
      schema: result.schema,
      keyFields: result.schema.keyIndexes.map((index) => result.schema.fields[index]!.name),
      outputs: outputs.get(name)!,
      stateful: result.stateful,
      emitsInsertOnly: result.emitsInsertOnly,
      stateKeys: result.stateKeys,
      lineage: result.lineage,
    });
  }
  const windows = order.map((name) => resolved.get(name)!);
  const queries: QueryModel[] = def.queries.map((query) => ({
    name: query.name,
    windows: query.windows.map((w) => w.name),
  }));
  return {
    name: def.name,
    description: def.description,
    queries,
    windows,
    sources: windows.filter((window) => window.inputs.length === 0).map((window) => window.name),
    window: (name) => resolved.get(name),
  };
}

function topologicalOrder(defs: ReadonlyMap<string, WindowDef>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const current = state.get(name);
    if (current === "done") return;
    if (current === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" -> ");
      const window = defs.get(name)!;
      throw loadError(`the windows form a cycle: ${cycle}`, { line: window.line, window: name });
    }
    state.set(name, "visiting");
    for (const input of defs.get(name)!.inputs) visit(input, [...path, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of defs.keys()) visit(name, []);
  return order;
}
