import { createSchema, type FieldInput, isFieldType, parseSchemaString, type Schema } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { loadError } from "../errors.js";
import type { XmlView } from "./xml-view.js";
import type { YamlView } from "./yaml-view.js";

function rethrow(
  error: unknown,
  where: { line?: number | undefined; window?: string | undefined },
  prefix: string,
): never {
  const message = error instanceof MeshError ? error.message : String(error);
  throw loadError(`${prefix}: ${message}`, where);
}

/** The schema of a window element: `<schema><fields><field .../></fields></schema>` or `<schema-string>`. */
export function readXmlSchema(window: XmlView): Schema | undefined {
  const schemaString = window.child("schema-string");
  const schema = window.child("schema");
  if (schemaString !== undefined && schema !== undefined) {
    throw window.error("give either <schema> or <schema-string>, not both", schema.element);
  }
  if (schemaString !== undefined) return fromString(schemaString.text, schemaString);
  if (schema === undefined) return undefined;
  const inner = schema.child("schema-string");
  const fieldsElement = schema.child("fields");
  if (inner !== undefined) {
    schema.finish();
    return fromString(inner.text, inner);
  }
  if (fieldsElement === undefined) {
    if (schema.text !== "") {
      schema.finish();
      return fromString(schema.text, schema);
    }
    throw schema.error("<schema> needs <fields> or a schema string");
  }
  schema.finish();
  const fields: FieldInput[] = [];
  for (const field of fieldsElement.children("field")) {
    const name = field.requireAttr("name");
    const type = field.requireAttr("type").trim().toLowerCase();
    if (!isFieldType(type)) {
      throw field.error(`field "${name}" has unknown type "${type}"`);
    }
    const key = field.boolAttr("key", false);
    field.finish();
    fields.push({ name, type, key });
  }
  fieldsElement.finish();
  try {
    return createSchema(fields);
  } catch (error) {
    rethrow(error, { line: fieldsElement.line, window: window.window }, "invalid schema");
  }
}

function fromString(text: string, at: XmlView): Schema {
  at.finish();
  try {
    return parseSchemaString(text);
  } catch (error) {
    rethrow(error, { line: at.line, window: at.window }, "invalid schema string");
  }
}

/** The schema of a YAML window: a schema string or a list of `{name, type, key}`. */
export function readYamlSchema(node: YamlView): Schema {
  if (!node.isList) {
    const text = node.string();
    try {
      return parseSchemaString(text);
    } catch (error) {
      throw node.error(`invalid schema string: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const fields: FieldInput[] = node.items().map((item) => {
    const name = item.require("name").string();
    const type = item.require("type").string().toLowerCase();
    if (!isFieldType(type)) throw item.error(`field "${name}" has unknown type "${type}"`);
    const key = item.optBoolean("key", false);
    item.finish();
    return { name, type, key };
  });
  try {
    return createSchema(fields);
  } catch (error) {
    throw node.error(`invalid schema: ${error instanceof Error ? error.message : String(error)}`);
  }
}
