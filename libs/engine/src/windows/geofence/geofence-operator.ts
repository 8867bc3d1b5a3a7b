import { allocateValues, type Batch, type Column, Opcode, type Value } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import type { WindowModel } from "../../model/project-model.js";
import { BatchWriter } from "../../runtime/batch-writer.js";
import type { ByteReader, ByteWriter } from "../../runtime/bytes.js";
import { ArrayShards, type Flow } from "../../runtime/flow.js";
import { ShardedTable } from "../../runtime/sharded-table.js";
import { compareValues, createKeyEncoder, type KeyEncoder, nullAt, rowValues, valueAt } from "../../runtime/values.js";
import type { OperatorContext, WindowOperator } from "../window-kind.js";
import type { GeofenceLayout } from "./geofence-layout.js";
import type { GeofenceSpec } from "./geofence-spec.js";
import {
  CIRCLE,
  type Geometry,
  type GeometryIdentity,
  Measure,
  makeCircle,
  makePolygon,
  parseCoordinates,
} from "./geometry.js";
import { GridIndex } from "./grid-index.js";

const SNAPSHOT_VERSION = 1;

/** One geometry a position matched. */
interface Hit {
  geometry: Geometry;
  distance: number;
  /** 0 when the position is inside (or on), 1 when only within the lookup distance. */
  rank: number;
}

function better(a: Hit, b: Hit): number {
  return a.rank - b.rank || a.distance - b.distance || compareValues(a.geometry.id, b.geometry.id);
}

/**
 * Runs a geofence window: geometry events (insert, update, upsert, delete) maintain a grid index
 * of polygons and circles, kept per shard of the geometry event; every position event comes out
 * with the closest matching geometry's id, description and distance (null when none), or with
 * one row per match when multiple results are asked for. Geometry events emit nothing.
 */
export class GeofenceOperator implements WindowOperator {
  private readonly table = new ShardedTable<Geometry>();
  private readonly index: GridIndex;
  private readonly measure: Measure;
  private readonly keys: KeyEncoder;
  /** Matches of the last lookup: the first {@link hitCount} entries (objects are reused). */
  private readonly hits: Hit[] = [];
  private hitCount = 0;
  /** The position of the last {@link position} call. */
  private px = 0;
  private py = 0;
  private pd = 0;

  constructor(
    private readonly window: WindowModel,
    private readonly context: OperatorContext,
    private readonly spec: GeofenceSpec,
    private readonly layout: GeofenceLayout,
  ) {
    this.measure = new Measure(spec.coordinateType);
    const factor = (value: number | undefined) => (value === undefined ? undefined : 10 ** value);
    this.index = new GridIndex(
      factor(spec.mesh.factorX),
      factor(spec.mesh.factorY),
      spec.mesh.maxCellsPerGeometry,
      spec.coordinateType === "geographic" ? 0.01 : 1,
    );
    this.keys = createKeyEncoder([layout.geoKey], [layout.geoKeyType]);
  }

  process(flow: Flow, input: number): Flow | undefined {
    if (input === this.layout.geometry) {
      this.applyGeometries(flow);
      return undefined;
    }
    return this.spec.multipleResults ? this.lookupMany(flow) : this.lookupOne(flow);
  }

  // --- geometries ---------------------------------------------------------------------------

  private applyGeometries(flow: Flow): void {
    const batch = flow.batch;
    for (let row = 0; row < batch.length; row++) {
      const key = this.keys.ofRow(batch, row);
      if (batch.opcodes[row] === Opcode.Delete) {
        this.forget(key);
        continue;
      }
      const built = this.build(batch, row, key, flow.shards.get(row));
      if (typeof built === "string") {
        this.forget(key);
        this.context.badEvent(row, `invalid geometry: ${built}`, batch);
        continue;
      }
      this.put(built);
    }
  }

  private forget(key: string | number): void {
    const existing = this.table.delete(key);
    if (existing === undefined) return;
    this.index.remove(existing);
    this.context.markDirty(existing.shard);
  }

  private put(geometry: Geometry): void {
    const existing = this.table.get(geometry.key);
    if (existing !== undefined) {
      this.index.remove(existing);
      if (existing.shard !== geometry.shard) this.context.markDirty(existing.shard);
    }
    this.table.set(geometry.key, geometry);
    this.index.add(geometry);
    this.context.markDirty(geometry.shard);
  }

  private build(batch: Batch, row: number, key: string | number, shard: number): Geometry | string {
    const layout = this.layout;
    const id = valueAt(batch.columns[layout.geoKey]!, row);
    if (id === null) return "the geometry key is null";
    const description = layout.geoDesc < 0 ? null : (valueAt(batch.columns[layout.geoDesc]!, row) as string | null);
    const who: GeometryIdentity = { id, key, shard, description };
    const type = this.spec.coordinateType;
    const data = layout.geoData < 0 ? null : (valueAt(batch.columns[layout.geoData]!, row) as string | null);
    if (data !== null && data.trim() !== "") {
      const coordinates = parseCoordinates(data, this.spec.geometry.separator);
      if (typeof coordinates === "string") return coordinates;
      return makePolygon(who, coordinates.xs, coordinates.ys, type);
    }
    if (layout.geoX < 0) return "the polygon coordinate list is empty";
    const x = valueAt(batch.columns[layout.geoX]!, row);
    const y = valueAt(batch.columns[layout.geoY]!, row);
    if (x === null || y === null) return "neither a coordinate list nor a circle centre";
    const radius = layout.geoRadius < 0 ? null : valueAt(batch.columns[layout.geoRadius]!, row);
    const r = (radius as number | null) ?? this.spec.geometry.radius;
    if (r === undefined) return "the circle has no radius";
    return makeCircle(who, x as number, y as number, r, type);
  }

  // --- lookups --------------------------------------------------------------------------------

  private hit(geometry: Geometry, distance: number, rank: number): void {
    let hit = this.hits[this.hitCount];
    if (hit === undefined) {
      hit = { geometry, distance, rank };
      this.hits.push(hit);
    } else {
      hit.geometry = geometry;
      hit.distance = distance;
      hit.rank = rank;
    }
    this.hitCount++;
  }

  /** Collects the geometries the last {@link position} matches into {@link hits}; returns how many. */
  private lookup(): number {
    this.hitCount = 0;
    const px = this.px;
    const py = this.py;
    const distance = this.pd;
    const measure = this.measure;
    let dx = 0;
    let dy = 0;
    if (distance > 0) [dx, dy] = measure.around(py, distance);
    const found = this.index.query(px, py, dx, dy);
    const toCentroid = this.spec.polygonDistance === "centroid";
    for (let i = 0; i < found.length; i++) {
      const g = found[i]!;
      if (g.kind === CIRCLE) {
        const d = measure.distance(px, py, g.cx, g.cy);
        if (d <= g.radius + distance) this.hit(g, d, d <= g.radius ? 0 : 1);
        continue;
      }
      if (measure.inside(g, px, py)) {
        this.hit(g, toCentroid ? measure.distance(px, py, g.cx, g.cy) : measure.boundaryDistance(g, px, py), 0);
      } else if (distance > 0) {
        const boundary = measure.boundaryDistance(g, px, py);
        if (boundary <= distance) this.hit(g, toCentroid ? measure.distance(px, py, g.cx, g.cy) : boundary, 1);
      }
    }
    return this.hitCount;
  }

  /** Reads the position of a row into px, py and its lookup distance into pd; false when x or y is null. */
  private position(batch: Batch, row: number): boolean {
    const layout = this.layout;
    const xc = batch.columns[layout.posX]!;
    const yc = batch.columns[layout.posY]!;
    if (nullAt(xc, row) || nullAt(yc, row)) return false;
    let distance = this.spec.position.lookupDistance;
    if (layout.posLookup >= 0) {
      const column = batch.columns[layout.posLookup]!;
      if (!nullAt(column, row)) distance = Math.max(0, column.values[row] as number);
    }
    this.px = xc.values[row] as number;
    this.py = yc.values[row] as number;
    this.pd = distance;
    return true;
  }

  /** The closest match of every row: the position's columns plus geoid, geodesc, geodistance. */
  private lookupOne(flow: Flow): Flow {
    return {
      batch: this.annotate(flow.batch),
      old: flow.old === undefined ? undefined : this.annotate(flow.old),
      shards: flow.shards,
    };
  }

  private annotate(batch: Batch): Batch {
    const n = batch.length;
    const layout = this.layout;
    const ids = allocateValues(layout.geoKeyType, n);
    const descs = layout.outDesc < 0 ? undefined : new Array<string>(n).fill("");
    const distances = new Float64Array(n);
    const bytes = (n + 7) >>> 3;
    const nulls = new Uint8Array(bytes);
    const descNulls = new Uint8Array(bytes);
    let anyNull = false;
    let anyDescNull = false;
    const hits = this.hits;
    for (let row = 0; row < n; row++) {
      const count = this.position(batch, row) ? this.lookup() : 0;
      const bit = 1 << (row & 7);
      if (count === 0) {
        nulls[row >>> 3] = nulls[row >>> 3]! | bit;
        descNulls[row >>> 3] = descNulls[row >>> 3]! | bit;
        anyNull = true;
        anyDescNull = true;
        continue;
      }
      let best = hits[0]!;
      for (let i = 1; i < count; i++) if (better(hits[i]!, best) < 0) best = hits[i]!;
      (ids as unknown[])[row] = best.geometry.id;
      if (descs !== undefined) {
        const description = best.geometry.description;
        if (description === null) {
          descNulls[row >>> 3] = descNulls[row >>> 3]! | bit;
          anyDescNull = true;
        } else descs[row] = description;
      }
      distances[row] = best.distance;
    }
    const bitmap = anyNull ? nulls : undefined;
    const columns: Column[] = [...batch.columns];
    columns.push({ type: layout.geoKeyType, values: ids, nulls: bitmap });
    if (descs !== undefined)
      columns.push({ type: "string", values: descs, nulls: anyDescNull ? descNulls : undefined });
    if (layout.outDistance >= 0) columns.push({ type: "double", values: distances, nulls: bitmap });
    return { schema: this.window.schema, length: n, opcodes: batch.opcodes, columns };
  }

  /** One row per match (sorted by distance, or by geoid), numbered from 0; no match gives one row of nulls. */
  private lookupMany(flow: Flow): Flow {
    const batch = flow.batch;
    const layout = this.layout;
    const out = new BatchWriter(this.window.schema, batch.length);
    const shards: number[] = [];
    const width = this.window.schema.fields.length;
    for (let row = 0; row < batch.length; row++) {
      const base = rowValues(batch, row);
      const count = this.position(batch, row) ? this.lookup() : 0;
      const hits = this.hits.slice(0, count);
      hits.sort(this.spec.sortedResults ? better : (a, b) => compareValues(a.geometry.id, b.geometry.id));
      const rows = Math.max(1, count);
      for (let k = 0; k < rows; k++) {
        const values = new Array<Value>(width).fill(null);
        for (let c = 0; c < base.length; c++) values[c] = base[c]!;
        const hit = hits[k];
        if (hit !== undefined) {
          values[layout.outGeoid] = hit.geometry.id;
          if (layout.outDesc >= 0) values[layout.outDesc] = hit.geometry.description;
          if (layout.outDistance >= 0) values[layout.outDistance] = hit.distance;
        }
        values[layout.outNumber] = k;
        out.appendValues(values, batch.opcodes[row]!);
        shards.push(flow.shards.get(row));
      }
    }
    return { batch: out.finish(), old: undefined, shards: new ArrayShards(Uint32Array.from(shards)) };
  }

  // --- state ----------------------------------------------------------------------------------

  snapshot(shard: number, out: ByteWriter): boolean {
    const count = this.table.countOf(shard);
    if (count === 0) return false;
    out.u8(SNAPSHOT_VERSION);
    out.u32(count);
    for (const [, g] of this.table.ofShard(shard)) {
      out.value(g.id);
      out.value(g.description);
      out.u8(g.kind);
      if (g.kind === CIRCLE) {
        out.f64(g.cx);
        out.f64(g.cy);
        out.f64(g.radius);
        continue;
      }
      out.u32(g.xs.length);
      for (let i = 0; i < g.xs.length; i++) {
        out.f64(g.xs[i]!);
        out.f64(g.ys[i]!);
      }
    }
    return true;
  }

  restore(shard: number, input: ByteReader): void {
    const version = input.u8();
    if (version !== SNAPSHOT_VERSION) throw new MeshError("DATA_LOSS", `unknown geofence snapshot version ${version}`);
    const count = input.u32();
    const type = this.spec.coordinateType;
    for (let i = 0; i < count; i++) {
      const id = input.value();
      const description = input.value() as string | null;
      const who: GeometryIdentity = { id, key: this.keys.ofValues([id]), shard, description };
      let built: Geometry | string;
      if (input.u8() === CIRCLE) {
        built = makeCircle(who, input.f64(), input.f64(), input.f64(), type);
      } else {
        const n = input.u32();
        const xs = new Float64Array(n);
        const ys = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          xs[k] = input.f64();
          ys[k] = input.f64();
        }
        built = makePolygon(who, xs, ys, type);
      }
      if (typeof built === "string")
        throw new MeshError("DATA_LOSS", `geofence snapshot holds an invalid geometry: ${built}`);
      this.put(built);
    }
  }

  drop(shard: number): void {
    for (const [, g] of this.table.dropShard(shard)) this.index.remove(g);
  }

  shards(): Iterable<number> {
    return this.table.shards();
  }
}
