import { create } from "@bufbuild/protobuf";
import * as pb from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { createSchema, parseSchemaString, schemaFromProto, schemaToProto, schemaToString } from "./index.js";

function thrown(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error("expected an error");
}

describe("createSchema", () => {
  it("keeps fields in order, marks keys and finds fields by name", () => {
    const schema = createSchema([
      { name: "id", type: "int64", key: true },
      { name: "name", type: "string" },
      { name: "price", type: "double" },
    ]);
    expect(schema.fields.map((f) => [f.name, f.type, f.key])).toEqual([
      ["id", "int64", true],
      ["name", "string", false],
      ["price", "double", false],
    ]);
    expect(schema.keyIndexes).toEqual([0]);
    expect(schema.indexOf("price")).toBe(2);
    expect(schema.indexOf("nope")).toBe(-1);
  });

  it("has a fingerprint that depends only on names, types and keys", () => {
    const a = createSchema([{ name: "id", type: "int64", key: true }]);
    const b = parseSchemaString("id*:int64");
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    // Pinned: the fingerprint is the same in every process and release.
    expect(a.fingerprint).toBe("ba9f8a85070d0e7f");
    expect(parseSchemaString("id:int64").fingerprint).not.toBe(a.fingerprint);
    expect(parseSchemaString("id*:int32").fingerprint).not.toBe(a.fingerprint);
  });

  it("rejects duplicate names naming the field", () => {
    const error = thrown(() =>
      createSchema([
        { name: "a", type: "int32" },
        { name: "a", type: "string" },
      ]),
    );
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain('"a"');
    expect(error.details?.field).toBe("a");
  });

  it("rejects unknown types naming the field", () => {
    const error = thrown(() => createSchema([{ name: "x", type: "float" as never }]));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain('field "x"');
    expect(error.message).toContain('"float"');
    expect(error.details?.field).toBe("x");
  });

  it("rejects names that cannot appear in a schema string, and empty schemas", () => {
    expect(thrown(() => createSchema([{ name: "a,b", type: "int32" }])).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => createSchema([{ name: "", type: "int32" }])).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => createSchema([])).code).toBe("INVALID_ARGUMENT");
  });
});

describe("parseSchemaString", () => {
  it("parses names, key marks and every type", () => {
    const schema = parseSchemaString(
      "id*:int64, name:string,price:double,qty:int32,cost:money,day:date,at:stamp,ok:boolean,raw:blob",
    );
    expect(schema.fields.map((f) => `${f.name}${f.key ? "*" : ""}:${f.type}`)).toEqual([
      "id*:int64",
      "name:string",
      "price:double",
      "qty:int32",
      "cost:money",
      "day:date",
      "at:stamp",
      "ok:boolean",
      "raw:blob",
    ]);
  });

  it("accepts whitespace and upper-case type names, and round-trips through schemaToString", () => {
    const schema = parseSchemaString("  a* : INT64 ,b:String ");
    expect(schemaToString(schema)).toBe("a*:int64,b:string");
    expect(schemaToString(parseSchemaString(schemaToString(schema)))).toBe("a*:int64,b:string");
  });

  it("names the field and position of an unknown type", () => {
    const error = thrown(() => parseSchemaString("id*:int64,price:dbl"));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe('schema string, field 2 at position 11: field "price" has unknown type "dbl"');
    expect(error.details).toEqual({ field: "price", position: 11 });
  });

  it("names the position of an entry without a type, an empty entry and a duplicate", () => {
    expect(thrown(() => parseSchemaString("id*:int64,name")).message).toContain("field 2 at position 11");
    expect(thrown(() => parseSchemaString("id*:int64,,x:int32")).message).toContain("empty field");
    const dup = thrown(() => parseSchemaString("a:int32,a:int64"));
    expect(dup.message).toContain('field "a" appears more than once');
    expect(dup.details?.field).toBe("a");
    expect(thrown(() => parseSchemaString("")).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => parseSchemaString("v:array(dbl)")).message).toContain("array types are not supported");
  });
});

describe("schema protobuf messages", () => {
  it("round-trip a schema with its fingerprint", () => {
    const schema = parseSchemaString("id*:int64,name:string,ok:boolean");
    const message = schemaToProto(schema);
    expect(message.fields.map((f) => f.type)).toEqual([pb.FieldType.INT64, pb.FieldType.STRING, pb.FieldType.BOOLEAN]);
    expect(message.fields[0]?.key).toBe(true);
    const back = schemaFromProto(message);
    expect(back.fingerprint).toBe(schema.fingerprint);
  });

  it("rejects an unknown field type number naming the field", () => {
    const message = create(pb.SchemaSchema, { fields: [{ name: "x", type: 42 as pb.FieldType }] });
    const error = thrown(() => schemaFromProto(message));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.details?.field).toBe("x");
  });
});
