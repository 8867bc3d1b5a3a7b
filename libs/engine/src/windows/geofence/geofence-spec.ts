import type { XmlView } from "../../model/xml-view.js";
import type { YamlView } from "../../model/yaml-view.js";

/** How coordinates are read: planar units, or longitude (x) / latitude (y) degrees with metres. */
export type CoordinateType = "cartesian" | "geographic";

/** What the distance to a polygon is measured to. */
export type PolygonDistance = "centroid" | "segment";

/** The settings of a geofence window (`WindowDef.spec`). */
export interface GeofenceSpec {
  /** @default "cartesian" */
  readonly coordinateType: CoordinateType;
  readonly geometry: {
    /** Field with a polygon's coordinate list (`x1 y1 x2 y2 ...`). */
    readonly data: string | undefined;
    /** Separator of the coordinate list, besides white space and commas. */
    readonly separator: string | undefined;
    /** Fields of a circle's centre. */
    readonly x: string | undefined;
    readonly y: string | undefined;
    /** Field of a circle's radius. */
    readonly radiusField: string | undefined;
    /** Radius of circles whose row gives none. */
    readonly radius: number | undefined;
    /** Field with a description copied to the output. */
    readonly description: string | undefined;
  };
  readonly position: {
    readonly x: string;
    readonly y: string;
    /** Distance around a position within which geometries match too. @default 0 */
    readonly lookupDistance: number;
    /** Field giving the lookup distance per position (overrides lookupDistance when not null). */
    readonly lookupDistanceField: string | undefined;
  };
  readonly output: {
    /** @default "geoid" */
    readonly geoid: string;
    readonly description: string | undefined;
    /** @default "geodistance" */
    readonly distance: string | undefined;
    /** Key field numbering the results of one position (multiple results only). */
    readonly eventNumber: string | undefined;
  };
  /** One row per matching geometry instead of the closest one. @default false */
  readonly multipleResults: boolean;
  /** Multiple results ordered by distance (else by geometry id). @default true */
  readonly sortedResults: boolean;
  /** @default "centroid" */
  readonly polygonDistance: PolygonDistance;
  readonly mesh: {
    /** Cell size 10^factor in coordinate units; derived from the geometries when absent. */
    readonly factorX: number | undefined;
    readonly factorY: number | undefined;
    /** A geometry covering more cells is checked for every lookup instead. @default 500 */
    readonly maxCellsPerGeometry: number;
  };
}

type Fail = (message: string) => never;

function number(text: string, what: string, fail: Fail, min = Number.NEGATIVE_INFINITY): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || value < min)
    fail(`${what} must be a number${min === 0 ? " >= 0" : ""}, not "${text}"`);
  return value;
}

function oneOf<T extends string>(text: string, allowed: readonly T[], what: string, fail: Fail): T {
  const value = text.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(value))
    fail(`${what} must be one of ${allowed.join(", ")}, not "${text}"`);
  return value as T;
}

/**
 * Reads `<window-geofence>` in the ESP shape:
 *
 * ```xml
 * <geofence coordinate-type="geographic" output-multiple-results="false" output-sorted-results="true"
 *           polygon-compute-distance-to="centroid" meshfactor-x="-2" meshfactor-y="-2"
 *           max-meshcells-per-geometry="500" autosize-mesh="true" log-invalid-geometry="true"/>
 * <geometry data-fieldname="poly" data-separator=" " x-fieldname="cx" y-fieldname="cy"
 *           radius-fieldname="r" radius="100" desc-fieldname="name"/>
 * <position x-fieldname="lon" y-fieldname="lat" lookupdistance="50" lookupdistance-fieldname="d"/>
 * <output geoid-fieldname="geoid" geodesc-fieldname="name" geodistance-fieldname="dist"
 *         eventnumber-fieldname="n"/>
 * ```
 */
export function readGeofenceXml(view: XmlView): GeofenceSpec {
  const settings = view.child("geofence");
  const fail = (at: XmlView | undefined) => (message: string) => {
    throw (at ?? view).error(message);
  };
  const coordinateType = oneOf(
    settings?.attr("coordinate-type") ?? "cartesian",
    ["cartesian", "geographic"],
    "coordinate-type",
    fail(settings),
  );
  const multipleResults = settings?.boolAttr("output-multiple-results", false) ?? false;
  const sortedResults = settings?.boolAttr("output-sorted-results", true) ?? true;
  const polygonDistance = oneOf(
    settings?.attr("polygon-compute-distance-to") ?? "centroid",
    ["centroid", "segment"],
    "polygon-compute-distance-to",
    fail(settings),
  );
  const factor = (name: string): number | undefined => {
    const text = settings?.attr(name);
    return text === undefined ? undefined : number(text, name, fail(settings));
  };
  const factorX = factor("meshfactor-x");
  const factorY = factor("meshfactor-y");
  const maxCellsText = settings?.attr("max-meshcells-per-geometry");
  const maxCellsPerGeometry =
    maxCellsText === undefined ? 500 : number(maxCellsText, "max-meshcells-per-geometry", fail(settings), 1);
  settings?.ignoreAttributes("autosize-mesh", "log-invalid-geometry");
  settings?.finish();

  const geometry = view.requireChild("geometry");
  const radiusText = geometry.attr("radius");
  const spec = {
    data: geometry.attr("data-fieldname"),
    separator: geometry.attr("data-separator"),
    x: geometry.attr("x-fieldname"),
    y: geometry.attr("y-fieldname"),
    radiusField: geometry.attr("radius-fieldname"),
    radius: radiusText === undefined ? undefined : number(radiusText, "radius", fail(geometry), 0),
    description: geometry.attr("desc-fieldname"),
  };
  geometry.finish();

  const position = view.requireChild("position");
  const lookupText = position.attr("lookupdistance");
  const positionSpec = {
    x: position.requireAttr("x-fieldname"),
    y: position.requireAttr("y-fieldname"),
    lookupDistance: lookupText === undefined ? 0 : number(lookupText, "lookupdistance", fail(position), 0),
    lookupDistanceField: position.attr("lookupdistance-fieldname"),
  };
  position.finish();

  const output = view.requireChild("output");
  const outputSpec = {
    geoid: output.attr("geoid-fieldname") ?? "geoid",
    description: output.attr("geodesc-fieldname"),
    distance: output.attr("geodistance-fieldname") ?? "geodistance",
    eventNumber: output.attr("eventnumber-fieldname"),
  };
  output.finish();
  return {
    coordinateType,
    geometry: spec,
    position: positionSpec,
    output: outputSpec,
    multipleResults,
    sortedResults,
    polygonDistance,
    mesh: { factorX, factorY, maxCellsPerGeometry },
  };
}

/**
 * Reads the YAML form:
 *
 * ```yaml
 * kind: geofence
 * inputs: [Positions, Zones]          # positions, then geometries
 * coordinateType: geographic
 * geometry: { data: poly, x: cx, y: cy, radiusField: r, radius: 100, description: name }
 * position: { x: lon, y: lat, lookupDistance: 50 }
 * output: { geoid: zone, description: zoneName, distance: dist }
 * ```
 */
export function readGeofenceYaml(node: YamlView): GeofenceSpec {
  const fail = (at: YamlView) => (message: string) => {
    throw at.error(message);
  };
  const typeNode = node.get("coordinateType");
  const coordinateType =
    typeNode === undefined
      ? "cartesian"
      : oneOf(typeNode.string(), ["cartesian", "geographic"], "coordinateType", fail(typeNode));
  const distanceNode = node.get("polygonDistance");
  const polygonDistance =
    distanceNode === undefined
      ? "centroid"
      : oneOf(distanceNode.string(), ["centroid", "segment"], "polygonDistance", fail(distanceNode));
  const geometry = node.require("geometry");
  const radiusNode = geometry.get("radius");
  const geometrySpec = {
    data: geometry.optString("data"),
    separator: geometry.optString("separator"),
    x: geometry.optString("x"),
    y: geometry.optString("y"),
    radiusField: geometry.optString("radiusField"),
    radius: radiusNode === undefined ? undefined : number(radiusNode.string(), "radius", fail(radiusNode), 0),
    description: geometry.optString("description"),
  };
  geometry.finish();
  const position = node.require("position");
  const lookupNode = position.get("lookupDistance");
  const positionSpec = {
    x: position.require("x").string(),
    y: position.require("y").string(),
    lookupDistance: lookupNode === undefined ? 0 : number(lookupNode.string(), "lookupDistance", fail(lookupNode), 0),
    lookupDistanceField: position.optString("lookupDistanceField"),
  };
  position.finish();
  const output = node.get("output");
  const outputSpec = {
    geoid: output?.optString("geoid") ?? "geoid",
    description: output?.optString("description"),
    distance: output?.optString("distance") ?? "geodistance",
    eventNumber: output?.optString("eventNumber"),
  };
  output?.finish();
  const mesh = node.get("mesh");
  const meshNumber = (key: string, min?: number): number | undefined => {
    const item = mesh?.get(key);
    return item === undefined ? undefined : number(item.string(), key, fail(item), min);
  };
  const meshSpec = {
    factorX: meshNumber("factorX"),
    factorY: meshNumber("factorY"),
    maxCellsPerGeometry: meshNumber("maxCellsPerGeometry", 1) ?? 500,
  };
  mesh?.finish();
  return {
    coordinateType,
    geometry: geometrySpec,
    position: positionSpec,
    output: outputSpec,
    multipleResults: node.optBoolean("multipleResults", false),
    sortedResults: node.optBoolean("sortedResults", true),
    polygonDistance,
    mesh: meshSpec,
  };
}

function defined(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

/** Writes the settings as YAML keys (the inverse of {@link readGeofenceYaml}). */
export function writeGeofenceYaml(spec: GeofenceSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.coordinateType !== "cartesian") out.coordinateType = spec.coordinateType;
  out.geometry = defined({ ...spec.geometry });
  out.position = defined({
    x: spec.position.x,
    y: spec.position.y,
    lookupDistance: spec.position.lookupDistance === 0 ? undefined : spec.position.lookupDistance,
    lookupDistanceField: spec.position.lookupDistanceField,
  });
  out.output = defined({ ...spec.output });
  if (spec.multipleResults) out.multipleResults = true;
  if (!spec.sortedResults) out.sortedResults = false;
  if (spec.polygonDistance !== "centroid") out.polygonDistance = spec.polygonDistance;
  const mesh = defined({
    factorX: spec.mesh.factorX,
    factorY: spec.mesh.factorY,
    maxCellsPerGeometry: spec.mesh.maxCellsPerGeometry === 500 ? undefined : spec.mesh.maxCellsPerGeometry,
  });
  if (Object.keys(mesh).length > 0) out.mesh = mesh;
  return out;
}
