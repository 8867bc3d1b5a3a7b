/**
 * engine-geofence: position lookups through a geofence window (`engine.process` with 1000-event
 * batches) against 10k polygons, geographic coordinates (haversine metres).
 *
 * Polygons: 10k convex polygons of 6 to 12 vertices and 50 to 250 m across, scattered over a
 * 25 km × 17 km city area; positions uniformly over the same area (about a third fall in a
 * polygon).
 *
 * - lookup: positions per second through the window (grid index, closest geometry per position).
 *   Baseline: the same window with a grid of one cell (`mesh: { factorX: 3, factorY: 3 }`), so
 *   every lookup checks every polygon, as a geofence without a spatial index would.
 */

import { createEngine, type Engine, loadProject } from "@espmesh/engine";
import { type Batch, parseSchemaString, rowsToBatch } from "@espmesh/events";
import { emit, printTable } from "./lib/report.js";

const POLYGONS = 10_000;
const LOOKUPS = 1_000_000;
const BATCH = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const [LON0, LON1, LAT0, LAT1] = [2.2, 2.54, 48.8, 48.95];

const project = (mesh: string): string => `
name: bench
windows:
  - { name: gps, kind: source, insertOnly: true, schema: "id*:int64,lon:double,lat:double" }
  - { name: zones, kind: source, schema: "zid*:int64,poly:string" }
  - name: fence
    kind: geofence
    inputs: [gps, zones]
    coordinateType: geographic
    geometry: { data: poly }
    position: { x: lon, y: lat }${mesh}
`;

let seed = 7;
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}

function polygons(): { zid: number; poly: string }[] {
  const rows = [];
  for (let zid = 0; zid < POLYGONS; zid++) {
    const lon = LON0 + random() * (LON1 - LON0);
    const lat = LAT0 + random() * (LAT1 - LAT0);
    const metres = 25 + random() * 100;
    const sides = 6 + Math.floor(random() * 7);
    const points: string[] = [];
    for (let k = 0; k < sides; k++) {
      const angle = (2 * Math.PI * k) / sides;
      const dLat = (metres * Math.sin(angle)) / 111_195;
      const dLon = (metres * Math.cos(angle)) / (111_195 * Math.cos((lat * Math.PI) / 180));
      points.push(`${(lon + dLon).toFixed(7)} ${(lat + dLat).toFixed(7)}`);
    }
    rows.push({ zid, poly: points.join(", ") });
  }
  return rows;
}

const zoneRows = polygons();
const gpsSchema = parseSchemaString("id*:int64,lon:double,lat:double");
const batches: Batch[] = [];
for (let start = 0; start < LOOKUPS; start += BATCH) {
  const rows = [];
  for (let id = start; id < start + BATCH; id++)
    rows.push({ id, lon: LON0 + random() * (LON1 - LON0), lat: LAT0 + random() * (LAT1 - LAT0) });
  batches.push(rowsToBatch(gpsSchema, rows));
}

function engineWith(mesh: string): Engine {
  const engine = createEngine(loadProject(project(mesh)), { shardCount: 4096 });
  const zoneSchema = engine.model.window("zones")!.schema;
  for (let i = 0; i < zoneRows.length; i += BATCH)
    engine.process("zones", rowsToBatch(zoneSchema, zoneRows.slice(i, i + BATCH)));
  return engine;
}

/** Lookups per second over `count` batches; positions that fell in a polygon. */
function lookups(engine: Engine, count: number): { rate: number; hits: number } {
  let hits = 0;
  const start = performance.now();
  for (const batch of batches.slice(0, count)) {
    const out = engine.process("gps", batch).get("fence")!;
    const nulls = out.columns[3]!.nulls;
    let missing = 0;
    if (nulls !== undefined)
      for (let row = 0; row < out.length; row++) if ((nulls[row >>> 3]! & (1 << (row & 7))) !== 0) missing++;
    hits += out.length - missing;
  }
  return { rate: (count * BATCH) / ((performance.now() - start) / 1000), hits };
}

const engine = engineWith("");
const indexed = (): { rate: number; hits: number } => lookups(engine, batches.length);

indexed();
let best = { rate: 0, hits: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const result = indexed();
  if (result.rate > best.rate) best = result;
}
const scanning = engineWith("\n    mesh: { factorX: 3, factorY: 3 }");
lookups(scanning, 2);
const baseline = lookups(scanning, 5).rate;

printTable(`engine-geofence: 1M positions against ${POLYGONS} polygons (geographic)`, [
  { lookup: "grid index (window)", "lookups/s": best.rate, "in a polygon": best.hits },
  { lookup: "scan every polygon", "lookups/s": baseline, "in a polygon": "" },
]);
emit({
  bench: "engine-geofence",
  metric: "lookup",
  value: Math.round(best.rate),
  unit: "lookups/s",
  baseline: Math.round(baseline),
});
