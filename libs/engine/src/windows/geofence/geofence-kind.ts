import type { WindowKind } from "../window-kind.js";
import { geofenceLayout } from "./geofence-layout.js";
import { GeofenceOperator } from "./geofence-operator.js";
import { type GeofenceSpec, readGeofenceXml, readGeofenceYaml, writeGeofenceYaml } from "./geofence-spec.js";

function specOf(spec: Readonly<Record<string, unknown>>): GeofenceSpec {
  return spec as unknown as GeofenceSpec;
}

/**
 * The geofence window: a position input and a geometry input (polygons from a coordinate list,
 * circles from a centre and a radius; inserted, updated and deleted by key). Every position
 * event comes out with the id, description and distance of the geometry it falls in (or within
 * the lookup distance of), or nulls. Cartesian or geographic (longitude/latitude, metres,
 * haversine) coordinates; a grid index keeps lookups from scanning every geometry. Geometries are
 * state, checkpointed per shard. Attributes: `libs/engine/docs/geofence.md`.
 */
export const geofenceKind: WindowKind = {
  kind: "geofence",
  xmlElement: "window-geofence",
  inputs: [2, 2],
  schema: "none",
  readXml(view) {
    return readGeofenceXml(view) as unknown as Record<string, unknown>;
  },
  readYaml(node) {
    return readGeofenceYaml(node) as unknown as Record<string, unknown>;
  },
  writeYaml(window) {
    return writeGeofenceYaml(specOf(window.spec));
  },
  resolve(def, inputs) {
    const layout = geofenceLayout(def, specOf(def.spec), inputs);
    const geometry = inputs[layout.geometry]!;
    const key = geometry.schema.fields[layout.geoKey]!.name;
    return {
      schema: layout.schema,
      stateful: true,
      emitsInsertOnly: inputs[layout.position]!.emitsInsertOnly,
      lineage: layout.lineage,
      stateKeys: [
        {
          role: `geometry key (input "${geometry.name}")`,
          fields: [key],
          sources: [geometry.lineage[layout.geoKey] ?? []],
        },
      ],
    };
  },
  create(window, context) {
    const spec = specOf(window.spec);
    return new GeofenceOperator(window, context, spec, geofenceLayout(window, spec, context.inputs));
  },
};
