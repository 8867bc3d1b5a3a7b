import type { Value } from "@espmesh/events";
import type { TableKey } from "../../runtime/values.js";
import { degreesAround, haversine, localScale, segmentDistance } from "./geo-math.js";
import type { CoordinateType } from "./geofence-spec.js";

/** Geometry kinds. */
export const POLYGON = 0;
export const CIRCLE = 1;

/** A polygon (one ring) or a circle, with its bounding box in coordinate units. */
export interface Geometry {
  /** The geometry window's key value: the `geoid` of outputs. */
  readonly id: Value;
  readonly key: TableKey;
  readonly shard: number;
  readonly description: string | null;
  readonly kind: number;
  /** Polygon vertices (the ring, not closed); empty for a circle. */
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  /** Polygon centroid or circle centre. */
  readonly cx: number;
  readonly cy: number;
  /** Circle radius (metres for geographic coordinates); 0 for a polygon. */
  readonly radius: number;
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
  /** Last lookup that met it (dedupes candidates found in several cells). */
  stamp: number;
}

/** A geometry as a class, so every geometry has the same fast shape. */
class GeometryRecord implements Geometry {
  stamp = 0;
  readonly id: Value;
  readonly key: TableKey;
  readonly shard: number;
  readonly description: string | null;

  constructor(
    who: GeometryIdentity,
    readonly kind: number,
    readonly xs: Float64Array,
    readonly ys: Float64Array,
    readonly cx: number,
    readonly cy: number,
    readonly radius: number,
    readonly minX: number,
    readonly minY: number,
    readonly maxX: number,
    readonly maxY: number,
  ) {
    this.id = who.id;
    this.key = who.key;
    this.shard = who.shard;
    this.description = who.description;
  }
}

/** What identifies a geometry and comes out with it. */
export interface GeometryIdentity {
  readonly id: Value;
  readonly key: TableKey;
  readonly shard: number;
  readonly description: string | null;
}

/**
 * Parses a coordinate list `x1 y1 x2 y2 ...` (white space, commas, the given separator and a
 * `POLYGON((...))` wrapper are all accepted). A closing point equal to the first is dropped.
 * Returns an error message when it is not a polygon of at least three points.
 */
export function parseCoordinates(
  text: string,
  separator: string | undefined,
): { xs: Float64Array; ys: Float64Array } | string {
  let body = text
    .trim()
    .replace(/^polygon\s*/i, "")
    .replace(/[()]/g, " ");
  if (separator !== undefined && separator !== "") body = body.split(separator).join(" ");
  const tokens = body.split(/[\s,;]+/).filter((token) => token !== "");
  if (tokens.length % 2 !== 0) return `the coordinate list has an odd number of values (${tokens.length})`;
  const values = tokens.map(Number);
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) return `"${tokens[bad]}" in the coordinate list is not a number`;
  let count = values.length / 2;
  if (count > 1 && values[0] === values[2 * count - 2] && values[1] === values[2 * count - 1]) count--;
  if (count < 3) return `a polygon needs at least 3 points, got ${count}`;
  const xs = new Float64Array(count);
  const ys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    xs[i] = values[2 * i]!;
    ys[i] = values[2 * i + 1]!;
  }
  return { xs, ys };
}

function checkGeographic(xs: ArrayLike<number>, ys: ArrayLike<number>): string | undefined {
  for (let i = 0; i < xs.length; i++) {
    if (xs[i]! < -180 || xs[i]! > 180 || ys[i]! < -90 || ys[i]! > 90) {
      return `point (${xs[i]}, ${ys[i]}) is not a longitude/latitude in degrees`;
    }
  }
  return undefined;
}

/** A polygon geometry; an error message for an invalid one. */
export function makePolygon(
  who: GeometryIdentity,
  xs: Float64Array,
  ys: Float64Array,
  type: CoordinateType,
): Geometry | string {
  if (type === "geographic") {
    const problem = checkGeographic(xs, ys);
    if (problem !== undefined) return problem;
  }
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  let area = 0;
  let sx = 0;
  let sy = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    const nx = xs[(i + 1) % n]!;
    const ny = ys[(i + 1) % n]!;
    const cross = x * ny - nx * y;
    area += cross;
    sx += (x + nx) * cross;
    sy += (y + ny) * cross;
  }
  let cx: number;
  let cy: number;
  if (Math.abs(area) > 1e-12 * Math.max(1, (maxX - minX) * (maxY - minY))) {
    cx = sx / (3 * area);
    cy = sy / (3 * area);
  } else {
    cx = xs.reduce((a, b) => a + b, 0) / n;
    cy = ys.reduce((a, b) => a + b, 0) / n;
  }
  return new GeometryRecord(who, POLYGON, xs, ys, cx, cy, 0, minX, minY, maxX, maxY);
}

const NONE = new Float64Array(0);

/** A circle geometry; an error message for an invalid one. */
export function makeCircle(
  who: GeometryIdentity,
  cx: number,
  cy: number,
  radius: number,
  type: CoordinateType,
): Geometry | string {
  if (!Number.isFinite(cx) || !Number.isFinite(cy)) return "the circle centre is not a pair of numbers";
  if (!Number.isFinite(radius) || radius < 0) return `the circle radius ${radius} is not a number >= 0`;
  let dx = radius;
  let dy = radius;
  if (type === "geographic") {
    const problem = checkGeographic([cx], [cy]);
    if (problem !== undefined) return problem;
    [dx, dy] = degreesAround(cy, radius);
  }
  return new GeometryRecord(who, CIRCLE, NONE, NONE, cx, cy, radius, cx - dx, cy - dy, cx + dx, cy + dy);
}

/** Distances and containment in one coordinate type. */
export class Measure {
  constructor(readonly type: CoordinateType) {}

  /** Distance between two points (metres for geographic coordinates). */
  distance(x1: number, y1: number, x2: number, y2: number): number {
    if (this.type === "geographic") return haversine(x1, y1, x2, y2);
    const dx = x2 - x1;
    const dy = y2 - y1;
    return Math.sqrt(dx * dx + dy * dy);
  }

  /** Half-extent in coordinate units of a box of `distance` around a point. */
  around(y: number, distance: number): [number, number] {
    return this.type === "geographic" ? degreesAround(y, distance) : [distance, distance];
  }

  /** Whether a point is inside a polygon or on its boundary. */
  inside(g: Geometry, px: number, py: number): boolean {
    if (px < g.minX || px > g.maxX || py < g.minY || py > g.maxY) return false;
    const xs = g.xs;
    const ys = g.ys;
    const n = xs.length;
    let inside = false;
    const eps = 1e-9 * Math.max(1, g.maxX - g.minX, g.maxY - g.minY);
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = xs[i]!;
      const yi = ys[i]!;
      const xj = xs[j]!;
      const yj = ys[j]!;
      // On the edge (within eps of the segment) counts as inside.
      const ex = xj - xi;
      const ey = yj - yi;
      const cross = ex * (py - yi) - ey * (px - xi);
      if (
        cross * cross <= eps * eps * (ex * ex + ey * ey) &&
        px >= Math.min(xi, xj) - eps &&
        px <= Math.max(xi, xj) + eps &&
        py >= Math.min(yi, yj) - eps &&
        py <= Math.max(yi, yj) + eps
      ) {
        return true;
      }
      if (yi > py !== yj > py && px < (ex * (py - yi)) / ey + xi) inside = !inside;
    }
    return inside;
  }

  /** Distance from a point to the boundary of a polygon (metres for geographic coordinates). */
  boundaryDistance(g: Geometry, px: number, py: number): number {
    const xs = g.xs;
    const ys = g.ys;
    const n = xs.length;
    let kx = 1;
    let ky = 1;
    if (this.type === "geographic") [kx, ky] = localScale(py);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      let ax = xs[j]! - px;
      let bx = xs[i]! - px;
      if (this.type === "geographic") {
        ax = wrap(ax);
        bx = wrap(bx);
      }
      const d = segmentDistance(0, 0, ax * kx, (ys[j]! - py) * ky, bx * kx, (ys[i]! - py) * ky);
      if (d < best) best = d;
    }
    return best;
  }
}

function wrap(dLon: number): number {
  if (dLon > 180) return dLon - 360;
  if (dLon < -180) return dLon + 360;
  return dLon;
}
