import { MeshError } from "@espmesh/telemetry";
import { registerBuiltinWindows } from "../windows/builtin.js";
import type { ProjectModel } from "./project-model.js";
import { resolveProject } from "./resolve-project.js";
import { readXmlProject } from "./xml-project.js";
import { readYamlProject } from "./yaml-project.js";

/** Project text formats. */
export type ProjectFormat = "xml" | "yaml" | "json";

/** Options of {@link loadProject}. */
export interface LoadProjectOptions {
  /** The text's format. @default sniffed: `<` starts XML, `{` JSON, anything else YAML */
  format?: ProjectFormat;
  /** The project name when the text gives none. @default "project" */
  name?: string;
}

/** The format of project text, by its first significant character. */
export function sniffFormat(text: string): ProjectFormat {
  const start = text.replace(/^\uFEFF/, "").trimStart();
  if (start.startsWith("<")) return "xml";
  if (start.startsWith("{")) return "json";
  return "yaml";
}

/**
 * Loads a project from ESP XML, YAML or JSON text: reads it, checks it (window kinds, schemas,
 * inputs, expressions type-checked against their input schemas) and resolves every window's
 * schema, state and lineage.
 * @throws MeshError INVALID_ARGUMENT whose message starts with the position (`line 12:7`) or the
 * YAML path of the problem and names the window and element or field.
 */
export function loadProject(text: string, options: LoadProjectOptions = {}): ProjectModel {
  registerBuiltinWindows();
  if (typeof text !== "string") throw new MeshError("INVALID_ARGUMENT", "project text must be a string");
  const format = options.format ?? sniffFormat(text);
  const def = format === "xml" ? readXmlProject(text, options.name) : readYamlProject(text, options.name);
  return resolveProject(def);
}
