import { create } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import { invalidArgument } from "./errors.js";
import { createSchema } from "./schema.js";
import { FIELD_TYPES, type FieldType, type Schema } from "./types.js";

const protoBySchema = new WeakMap<Schema, pb.Schema>();

/** The protobuf FieldType number of a field type. */
export function fieldTypeToProto(type: FieldType): pb.FieldType {
  return (FIELD_TYPES.indexOf(type) + 1) as pb.FieldType;
}

/** The field type of a protobuf FieldType number, or undefined when it is not one. */
export function fieldTypeFromProto(type: pb.FieldType): FieldType | undefined {
  return FIELD_TYPES[type - 1];
}

/**
 * The protobuf message of a schema. The message is built once per schema object and shared
 * afterwards: treat it as read-only.
 */
export function schemaToProto(schema: Schema): pb.Schema {
  let message = protoBySchema.get(schema);
  if (message === undefined) {
    message = create(pb.SchemaSchema, {
      fields: schema.fields.map((field) =>
        create(pb.FieldSchema, { name: field.name, type: fieldTypeToProto(field.type), key: field.key }),
      ),
    });
    protoBySchema.set(schema, message);
  }
  return message;
}

/**
 * The schema of a protobuf message.
 * @throws MeshError INVALID_ARGUMENT naming the field whose type is unknown, or as {@link createSchema}.
 */
export function schemaFromProto(message: pb.Schema): Schema {
  return createSchema(
    message.fields.map((field, index) => {
      const type = fieldTypeFromProto(field.type);
      if (type === undefined) {
        throw invalidArgument(`schema field "${field.name}": unknown field type number ${field.type}`, {
          field: field.name,
          index,
        });
      }
      return { name: field.name, type, key: field.key };
    }),
  );
}
