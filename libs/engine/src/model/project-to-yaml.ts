import { schemaToString } from "@espmesh/events";
import { stringify } from "yaml";
import { registerBuiltinWindows } from "../windows/builtin.js";
import { windowKind } from "../windows/registry.js";
import type { ProjectModel, WindowModel } from "./project-model.js";

function windowToYaml(window: WindowModel): Record<string, unknown> {
  const kind = windowKind(window.kind)!;
  const out: Record<string, unknown> = { name: window.name, kind: window.kind };
  if (window.description !== undefined) out.description = window.description;
  if (window.inputs.length > 0) out.inputs = [...window.inputs];
  if (kind.schema !== "none") out.schema = schemaToString(window.schema);
  if (window.index !== "pi_RBTREE") out.index = window.index;
  if (window.insertOnly) out.insertOnly = true;
  return { ...out, ...kind.writeYaml(window) };
}

/**
 * Writes a project in the native YAML format; loading the result gives an equivalent model
 * (same windows, schemas, wiring and settings).
 */
export function projectToYaml(model: ProjectModel): string {
  registerBuiltinWindows();
  const byName = new Map(model.windows.map((window) => [window.name, window]));
  const doc: Record<string, unknown> = { name: model.name };
  if (model.description !== undefined) doc.description = model.description;
  doc.queries = model.queries.map((query) => ({
    name: query.name,
    windows: query.windows.map((name) => windowToYaml(byName.get(name)!)),
  }));
  return stringify(doc, { lineWidth: 0 });
}
