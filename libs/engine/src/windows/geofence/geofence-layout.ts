import { createSchema, type FieldInput, type FieldType, type Schema } from "@espmesh/events";
import type { FieldSource, WindowDef, WindowModel } from "../../model/project-model.js";
import { lineageOf, windowError } from "../common.js";
import type { GeofenceSpec } from "./geofence-spec.js";

/** Where everything a geofence reads and writes is: inputs, columns, the output schema. */
export interface GeofenceLayout {
  /** Index of the position input and of the geometry input. */
  readonly position: number;
  readonly geometry: number;
  readonly posX: number;
  readonly posY: number;
  /** Column of the per-position lookup distance (-1 when none). */
  readonly posLookup: number;
  readonly geoKey: number;
  readonly geoKeyType: FieldType;
  readonly geoData: number;
  readonly geoX: number;
  readonly geoY: number;
  readonly geoRadius: number;
  readonly geoDesc: number;
  readonly schema: Schema;
  /** Output columns after the position's fields (-1 when not output). */
  readonly outGeoid: number;
  readonly outDesc: number;
  readonly outDistance: number;
  readonly outNumber: number;
  readonly lineage: readonly (readonly FieldSource[])[];
}

const NUMERIC: readonly FieldType[] = ["int32", "int64", "double", "money"];

type Check = (ok: boolean, message: string, field?: string) => void;

function column(
  schema: Schema,
  name: string | undefined,
  types: readonly FieldType[],
  what: string,
  input: string,
  check: Check,
): number {
  if (name === undefined) return -1;
  const index = schema.indexOf(name);
  check(index >= 0, `${what} "${name}" is not a field of "${input}"`, name);
  const type = schema.fields[index]?.type;
  check(
    type !== undefined && types.includes(type),
    `${what} "${name}" must be ${types.join(" or ")}, not ${type}`,
    name,
  );
  return index;
}

function tryLayout(
  def: WindowDef,
  spec: GeofenceSpec,
  inputs: readonly WindowModel[],
  position: number,
  geometry: number,
): GeofenceLayout {
  const check: Check = (ok, message, field) => {
    if (!ok) throw windowError(def, message, field);
  };
  const pos = inputs[position]!;
  const geo = inputs[geometry]!;
  const posX = column(pos.schema, spec.position.x, NUMERIC, "position x-fieldname", pos.name, check);
  const posY = column(pos.schema, spec.position.y, NUMERIC, "position y-fieldname", pos.name, check);
  const posLookup = column(
    pos.schema,
    spec.position.lookupDistanceField,
    NUMERIC,
    "lookupdistance-fieldname",
    pos.name,
    check,
  );
  const g = spec.geometry;
  check(
    g.data !== undefined || (g.x !== undefined && g.y !== undefined),
    "geometry needs data-fieldname (polygons) or x-fieldname and y-fieldname (circles)",
  );
  check((g.x === undefined) === (g.y === undefined), "geometry needs both x-fieldname and y-fieldname, or neither");
  check(
    g.x === undefined || g.radiusField !== undefined || g.radius !== undefined,
    "circles need radius-fieldname or a radius",
  );
  const geoData = column(geo.schema, g.data, ["string"], "geometry data-fieldname", geo.name, check);
  const geoX = column(geo.schema, g.x, NUMERIC, "geometry x-fieldname", geo.name, check);
  const geoY = column(geo.schema, g.y, NUMERIC, "geometry y-fieldname", geo.name, check);
  const geoRadius = column(geo.schema, g.radiusField, NUMERIC, "geometry radius-fieldname", geo.name, check);
  const geoDesc = column(geo.schema, g.description, ["string"], "geometry desc-fieldname", geo.name, check);
  check(
    geo.schema.keyIndexes.length === 1,
    `the geometry window "${geo.name}" needs exactly one key field: it is the geoid`,
  );
  const geoKey = geo.schema.keyIndexes[0]!;
  const geoKeyType = geo.schema.fields[geoKey]!.type;
  const out = spec.output;
  check(out.description === undefined || geoDesc >= 0, "geodesc-fieldname needs desc-fieldname on <geometry>");
  const multiple = spec.multipleResults;
  check(
    !multiple || pos.emitsInsertOnly,
    `output-multiple-results needs an insert-only position window; "${pos.name}" may update or delete`,
  );
  const fields: FieldInput[] = pos.schema.fields.map((field) => ({
    name: field.name,
    type: field.type,
    key: field.key,
  }));
  const lineage: (readonly FieldSource[])[] = [...pos.lineage];
  const add = (name: string | undefined, type: FieldType, sources: readonly FieldSource[], key = false): number => {
    if (name === undefined) return -1;
    check(
      !fields.some((field) => field.name === name),
      `output field "${name}" is also a field of "${pos.name}"; pick another name`,
      name,
    );
    fields.push({ name, type, key });
    lineage.push(sources);
    return fields.length - 1;
  };
  const outGeoid = add(out.geoid, geoKeyType, lineageOf(geo, geo.schema.fields[geoKey]!.name));
  const outDesc = add(out.description, "string", g.description === undefined ? [] : lineageOf(geo, g.description));
  const outDistance = add(out.distance, "double", []);
  const outNumber = add(multiple ? (out.eventNumber ?? "eventnumber") : undefined, "int64", [], true);
  return {
    position,
    geometry,
    posX,
    posY,
    posLookup,
    geoKey,
    geoKeyType,
    geoData,
    geoX,
    geoY,
    geoRadius,
    geoDesc,
    schema: createSchema(fields),
    outGeoid,
    outDesc,
    outDistance,
    outNumber,
    lineage,
  };
}

/**
 * Works out which input gives positions and which geometries (the first input is the position
 * window unless only the other order fits the field names), checks every named field, and
 * derives the output schema: the position's fields, then geoid (the geometry key's type),
 * geodesc, geodistance and, with multiple results, the event number key.
 * @throws MeshError INVALID_ARGUMENT naming the window and field.
 */
export function geofenceLayout(def: WindowDef, spec: GeofenceSpec, inputs: readonly WindowModel[]): GeofenceLayout {
  try {
    return tryLayout(def, spec, inputs, 0, 1);
  } catch (error) {
    try {
      return tryLayout(def, spec, inputs, 1, 0);
    } catch {
      throw error;
    }
  }
}
