import type { Schema } from "@espmesh/events";
import { windowKindOfElement, windowKinds } from "../windows/registry.js";
import type { ProjectDef } from "./project-def.js";
import { INDEX_TYPES, type IndexType, type WindowDef } from "./project-model.js";
import { readXmlSchema } from "./schema-reader.js";
import { parseXmlTree } from "./xml-tree.js";
import { XmlView } from "./xml-view.js";

/** Attributes of ESP elements that configure the ESP server itself; accepted and ignored. */
const IGNORED_PROJECT_ATTRIBUTES = ["pubsub", "threads", "heartbeat-interval", "luaroot", "use-tagged-token", "port"];
const IGNORED_WINDOW_ATTRIBUTES = [
  "pubsub",
  "pubsub-index",
  "output-insert-only",
  "collapse-updates",
  "pulse-interval",
];

function readIndex(view: XmlView, fallback: IndexType): IndexType {
  const value = view.attr("index");
  if (value === undefined) return fallback;
  if (!(INDEX_TYPES as readonly string[]).includes(value)) {
    throw view.error(`unknown index "${value}" (expected one of ${INDEX_TYPES.join(", ")})`);
  }
  return value as IndexType;
}

interface PendingWindow {
  readonly view: XmlView;
  readonly name: string;
  readonly kind: string;
  readonly schema: Schema | undefined;
  readonly index: IndexType;
  readonly insertOnly: boolean;
  readonly description: string | undefined;
  readonly spec: Record<string, unknown>;
}

/**
 * Reads an ESP XML project (`project/contqueries/contquery/windows/edges`) into a project
 * definition. Every element and attribute is either understood, explicitly ignored (ESP server
 * settings such as `pubsub`), or a load error naming it and its line.
 */
export function readXmlProject(source: string, name?: string): ProjectDef {
  const root = new XmlView(parseXmlTree(source));
  if (root.name !== "project") throw root.error(`expected <project> as the root element, found <${root.name}>`);
  const projectName = root.attr("name") ?? name ?? "project";
  const projectIndex = readIndex(root, "pi_RBTREE");
  root.ignoreAttributes(...IGNORED_PROJECT_ATTRIBUTES);
  root.ignoreChildren("metadata");
  const description = root.child("description")?.text;
  const queriesElement = root.requireChild("contqueries");
  root.finish();
  const queries = queriesElement.children("contquery").map((query) => readQuery(query, projectIndex));
  queriesElement.finish();
  if (queries.length === 0) throw queriesElement.error("<contqueries> has no <contquery>");
  return { name: projectName, description: description === "" ? undefined : description, queries };
}

function readQuery(query: XmlView, projectIndex: IndexType): { name: string; windows: WindowDef[] } {
  const queryName = query.requireAttr("name");
  const queryIndex = readIndex(query, projectIndex);
  query.ignoreAttributes("trace", "include-singletons", "trace-format");
  query.ignoreChildren("description", "metadata");
  const windowsElement = query.requireChild("windows");
  const edgesElement = query.child("edges");
  query.finish();

  const pending: PendingWindow[] = [];
  for (const element of windowsElement.element.children) {
    const kind = windowKindOfElement(element.name);
    if (kind === undefined) {
      const known = windowKinds().map((k) => `window-${k}`);
      throw windowsElement.error(`unknown window element <${element.name}> (supported: ${known.join(", ")})`, element);
    }
    windowsElement.ignoreChildren(element.name);
    pending.push(readWindow(new XmlView(element, element.attributes.name), kind.kind, queryIndex));
  }
  windowsElement.finish();

  const inputs = new Map<string, { source: string; role: string | undefined; order: number }[]>();
  let order = 0;
  if (edgesElement !== undefined) {
    edgesElement.ignoreChildren("description");
    for (const edge of edgesElement.children("edge")) {
      const sources = edge.requireAttr("source").trim().split(/\s+/);
      const targets = edge.requireAttr("target").trim().split(/\s+/);
      const role = edge.attr("role");
      edge.ignoreAttributes("slot");
      edge.finish();
      if (role !== undefined && !["left", "right", "data", "model", "request"].includes(role)) {
        throw edge.error(`unknown edge role "${role}"`);
      }
      for (const target of targets) {
        if (!pending.some((window) => window.name === target)) {
          throw edge.error(`edge target "${target}" is not a window of contquery "${queryName}"`);
        }
        for (const source of sources) {
          if (!pending.some((window) => window.name === source)) {
            throw edge.error(`edge source "${source}" is not a window of contquery "${queryName}"`);
          }
          const list = inputs.get(target) ?? [];
          list.push({ source, role, order: order++ });
          inputs.set(target, list);
        }
      }
    }
    edgesElement.finish();
  }

  const windows = pending.map((window): WindowDef => {
    const edges = inputs.get(window.name) ?? [];
    const rank = (role: string | undefined): number => (role === "left" ? 0 : role === "right" ? 2 : 1);
    const ordered = [...edges]
      .sort((a, b) => rank(a.role) - rank(b.role) || a.order - b.order)
      .map((edge) => edge.source);
    return {
      name: window.name,
      kind: window.kind,
      query: queryName,
      inputs: ordered,
      schema: window.schema,
      index: window.index,
      insertOnly: window.insertOnly,
      description: window.description,
      line: window.view.line,
      spec: window.spec,
    };
  });
  return { name: queryName, windows };
}

function readWindow(view: XmlView, kindName: string, queryIndex: IndexType): PendingWindow {
  const kind = windowKindOfElement(view.name)!;
  const name = view.requireAttr("name");
  const index = readIndex(view, queryIndex);
  const insertOnly = kindName === "source" ? view.boolAttr("insert-only", false) : false;
  view.ignoreAttributes(...IGNORED_WINDOW_ATTRIBUTES);
  const description = view.child("description")?.text;
  if (view.element.children.some((child) => child.name === "connectors")) {
    const connectors = view.children("connectors")[0]!;
    throw connectors.error(
      "unsupported element <connectors>: espmesh feeds windows through the mesh (espmesh publish, the gateway, bus bindings)",
    );
  }
  const schema = kind.schema === "none" ? undefined : readXmlSchema(view);
  if (kind.schema === "none" && view.element.children.some((c) => c.name === "schema" || c.name === "schema-string")) {
    const element = view.element.children.find((c) => c.name === "schema" || c.name === "schema-string")!;
    throw view.error(`a ${kindName} window takes its schema from its input; remove <${element.name}>`, element);
  }
  const spec = kind.readXml(view);
  view.finish();
  return { view, name, kind: kindName, schema, index, insertOnly, description, spec };
}
