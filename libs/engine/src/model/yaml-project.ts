import { LineCounter, parseDocument } from "yaml";
import { loadError } from "../errors.js";
import { windowKind, windowKinds } from "../windows/registry.js";
import type { ProjectDef } from "./project-def.js";
import { INDEX_TYPES, type IndexType, type WindowDef } from "./project-model.js";
import { readYamlSchema } from "./schema-reader.js";
import { YamlView } from "./yaml-view.js";

/** The query name used when a YAML project lists `windows` directly. */
export const DEFAULT_QUERY = "cq";

/**
 * Reads the native YAML (or JSON) project format:
 *
 * ```yaml
 * name: trades
 * queries:                      # or `windows:` directly, for one query named "cq"
 *   - name: cq
 *     windows:
 *       - { name: Trades, kind: source, schema: "id*:int64,symbol:string,price:double", insertOnly: true }
 *       - { name: Large, kind: filter, inputs: [Trades], expression: "price > 100" }
 * ```
 *
 * Unknown keys are errors naming their path and line.
 */
export function readYamlProject(source: string, name?: string): ProjectDef {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = lines.linePos(first.pos[0]);
    throw loadError(`malformed YAML/JSON: ${first.message.split("\n")[0]}`, { line: pos.line, column: pos.col });
  }
  const root = new YamlView(doc.contents, "", lines);
  if (!root.isMap) throw root.error("a project is a mapping with name and queries (or windows)");
  const projectName = root.optString("name") ?? name ?? "project";
  const description = root.optString("description");
  let queries: ProjectDef["queries"];
  if (root.has("queries")) {
    if (root.has("windows")) throw root.error('give either "queries" or "windows", not both');
    queries = root
      .require("queries")
      .items()
      .map((query) => {
        const queryName = query.require("name").string();
        const windows = query
          .require("windows")
          .items()
          .map((window) => readWindow(window, queryName));
        query.finish();
        return { name: queryName, windows };
      });
  } else {
    const windows = root
      .require("windows")
      .items()
      .map((window) => readWindow(window, DEFAULT_QUERY));
    queries = [{ name: DEFAULT_QUERY, windows }];
  }
  root.finish();
  return { name: projectName, description, queries };
}

function readWindow(view: YamlView, query: string): WindowDef {
  const name = view.require("name").string();
  const scoped = view.withWindow(name);
  scoped.accept("name");
  const kindName = scoped.require("kind").string();
  const kind = windowKind(kindName);
  if (kind === undefined) {
    throw scoped.require("kind").error(`unknown window kind "${kindName}" (supported: ${windowKinds().join(", ")})`);
  }
  const inputsNode = scoped.get("inputs");
  const inputs =
    inputsNode === undefined
      ? []
      : inputsNode.isList
        ? inputsNode.items().map((i) => i.string())
        : [inputsNode.string()];
  const schemaNode = scoped.get("schema");
  if (schemaNode !== undefined && kind.schema === "none") {
    throw schemaNode.error(`a ${kindName} window takes its schema from its input; remove "schema"`);
  }
  const schema = schemaNode === undefined ? undefined : readYamlSchema(schemaNode);
  const indexNode = scoped.get("index");
  const index = (indexNode?.string() ?? "pi_RBTREE") as IndexType;
  if (!INDEX_TYPES.includes(index))
    throw indexNode!.error(`unknown index "${index}" (expected one of ${INDEX_TYPES.join(", ")})`);
  const insertOnlyNode = scoped.get("insertOnly");
  if (insertOnlyNode !== undefined && kindName !== "source")
    throw insertOnlyNode.error("insertOnly applies to source windows only");
  const insertOnly = insertOnlyNode?.boolean() ?? false;
  const description = scoped.optString("description");
  const spec = kind.readYaml(scoped);
  scoped.finish();
  return { name, kind: kindName, query, inputs, schema, index, insertOnly, description, line: scoped.line, spec };
}
