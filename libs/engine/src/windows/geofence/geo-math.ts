/** Mean Earth radius in metres (IUGG). */
export const EARTH_RADIUS = 6_371_008.8;

const RAD = Math.PI / 180;
/** Metres per degree of latitude on the mean sphere. */
export const METRES_PER_DEGREE = EARTH_RADIUS * RAD;

/** Great-circle distance in metres between two (longitude, latitude) points in degrees. */
export function haversine(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Distance from (px, py) to the segment (ax, ay)-(bx, by), in the same planar units. */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  let t = length2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / length2;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  const ex = px - (ax + t * dx);
  const ey = py - (ay + t * dy);
  return Math.sqrt(ex * ex + ey * ey);
}

/**
 * The half-extent in degrees (longitude, latitude) of a box of `metres` around a latitude: the
 * longitude span widens toward the poles (the whole circle near them).
 */
export function degreesAround(lat: number, metres: number): [number, number] {
  const dLat = metres / METRES_PER_DEGREE;
  const cos = Math.cos(lat * RAD);
  const dLon = cos < 1e-6 ? 360 : Math.min(360, dLat / cos);
  return [dLon, dLat];
}

/** Scale factors (metres per degree of longitude, of latitude) of a local projection at a latitude. */
export function localScale(lat: number): [number, number] {
  return [METRES_PER_DEGREE * Math.cos(lat * RAD), METRES_PER_DEGREE];
}
