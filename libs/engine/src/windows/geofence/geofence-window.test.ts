import { batchToEvents, batchToRows, type Row, rowsToBatch } from "@espmesh/events";
import { describe, expect, it } from "vitest";
import { createEngine, type Engine, loadProject, projectToYaml } from "../../index.js";
import { CIRCLE, type Geometry, Measure, makeCircle, makePolygon, parseCoordinates } from "./geometry.js";

const PROJECT = `
name: p
windows:
  - { name: positions, kind: source, schema: "id*:int64,x:double,y:double" }
  - { name: zones, kind: source, schema: "zid*:int64,poly:string,cx:double,cy:double,r:double" }
  - name: fence
    kind: geofence
    inputs: [positions, zones]
    geometry: { data: poly, x: cx, y: cy, radiusField: r }
    position: { x: x, y: y, lookupDistance: 0.5 }
    output: { geoid: zone, distance: dist }
`;

function zones(engine: Engine, rows: Row[], opcode: 1 | 2 | 3 = 1): void {
  engine.process("zones", rowsToBatch(engine.model.window("zones")!.schema, rows, opcode));
}

function locate(engine: Engine, rows: Row[]): Row[] {
  const out = engine.process("positions", rowsToBatch(engine.model.window("positions")!.schema, rows)).get("fence");
  return out === undefined ? [] : batchToRows(out);
}

/** Deterministic pseudo-random numbers. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

function randomZones(count: number, next: () => number): Row[] {
  const rows: Row[] = [];
  for (let zid = 0; zid < count; zid++) {
    const x = next() * 1000;
    const y = next() * 1000;
    // Mostly small geometries, a few very large ones (they go on the grid's large list).
    const size = next() < 0.02 ? 300 + next() * 400 : 1 + next() * 20;
    if (next() < 0.5) {
      rows.push({ zid, poly: null, cx: x, cy: y, r: size });
      continue;
    }
    const points: number[] = [];
    const sides = 3 + Math.floor(next() * 6);
    for (let k = 0; k < sides; k++) {
      const angle = (2 * Math.PI * k) / sides;
      const radius = size * (0.5 + next() / 2);
      points.push(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
    }
    rows.push({ zid, poly: points.join(" "), cx: null, cy: null, r: null });
  }
  return rows;
}

describe("geofence window", () => {
  it("answers lookups from geometries restored into a fresh engine like the original", () => {
    const before = createEngine(loadProject(PROJECT), { shardCount: 16 });
    zones(before, [
      { zid: 1, poly: "0 0 10 0 10 10 0 10", cx: null, cy: null, r: null },
      { zid: 2, poly: null, cx: 50, cy: 50, r: 5 },
    ]);
    const after = createEngine(loadProject(PROJECT), { shardCount: 16 });
    for (const shard of before.stateShards()) after.restore(shard, before.snapshot(shard));
    const probe = [
      { id: 1, x: 5, y: 5 },
      { id: 2, x: 52, y: 51 },
      { id: 3, x: 10.3, y: 5 },
      { id: 4, x: 30, y: 30 },
    ];
    const restored = locate(after, probe);
    expect(restored.map((row) => row.zone)).toEqual([1, 2, 1, null]);
    expect(restored).toEqual(locate(before, probe));
  });

  it("finds with its grid index the same geometries as a scan of every geometry", () => {
    const next = random(7);
    const rows = randomZones(2000, next);
    const engine = createEngine(loadProject(PROJECT.replace("lookupDistance: 0.5", "lookupDistance: 0")), {
      shardCount: 4,
    });
    for (let i = 0; i < rows.length; i += 100) zones(engine, rows.slice(i, i + 100));
    const measure = new Measure("cartesian");
    const geometries: Geometry[] = rows.map((row) => {
      const who = { id: row.zid!, key: row.zid as number, shard: 0, description: null };
      if (row.poly !== null) {
        const parsed = parseCoordinates(row.poly as string, undefined) as { xs: Float64Array; ys: Float64Array };
        return makePolygon(who, parsed.xs, parsed.ys, "cartesian") as Geometry;
      }
      return makeCircle(who, row.cx as number, row.cy as number, row.r as number, "cartesian") as Geometry;
    });
    const probes = Array.from({ length: 3000 }, (_, id) => ({ id, x: next() * 1000, y: next() * 1000 }));
    const got = locate(engine, probes);
    const expected = probes.map(({ x, y }) => {
      let best: { id: number; d: number } | undefined;
      for (const g of geometries) {
        const inside = g.kind === CIRCLE ? measure.distance(x, y, g.cx, g.cy) <= g.radius : measure.inside(g, x, y);
        if (!inside) continue;
        const d = measure.distance(x, y, g.cx, g.cy);
        if (best === undefined || d < best.d || (d === best.d && (g.id as number) < best.id))
          best = { id: g.id as number, d };
      }
      return best?.id ?? null;
    });
    expect(got.map((row) => row.zone)).toEqual(expected);
    expect(expected.filter((id) => id !== null).length).toBeGreaterThan(100);
  });

  it("passes a position update through as an update, with the lookup of the old position", () => {
    const engine = createEngine(loadProject(PROJECT), { shardCount: 4 });
    zones(engine, [{ zid: 1, poly: "0 0 10 0 10 10 0 10", cx: null, cy: null, r: null }]);
    locate(engine, [{ id: 1, x: 5, y: 5 }]);
    const schema = engine.model.window("positions")!.schema;
    const out = engine.process("positions", rowsToBatch(schema, [{ id: 1, x: 50, y: 50 }], 2)).get("fence")!;
    expect(batchToEvents(out)).toEqual([{ opcode: "update", fields: { id: 1, x: 50, y: 50, zone: null, dist: null } }]);
  });

  it("writes the window back to YAML that loads with the same settings", () => {
    const yaml = projectToYaml(loadProject(PROJECT.replace("geometry:", "coordinateType: geographic\n    geometry:")));
    expect(yaml).toContain("coordinateType: geographic");
    expect(yaml).toContain("lookupDistance: 0.5");
    const model = loadProject(yaml);
    expect(model.window("fence")!.spec).toEqual(
      loadProject(PROJECT.replace("geometry:", "coordinateType: geographic\n    geometry:")).window("fence")!.spec,
    );
  });

  it("reads coordinate lists with commas, a WKT wrapper or a closing point", () => {
    expect(parseCoordinates("POLYGON((0 0, 4 0, 4 4, 0 0))", undefined)).toEqual({
      xs: Float64Array.from([0, 4, 4]),
      ys: Float64Array.from([0, 0, 4]),
    });
    expect(parseCoordinates("0 0 | 1 0 | 1 1", "|")).toEqual({
      xs: Float64Array.from([0, 1, 1]),
      ys: Float64Array.from([0, 0, 1]),
    });
    expect(parseCoordinates("0 0 1", undefined)).toMatch(/odd number/);
  });

  it("rejects a position field that is not a number at load time", () => {
    expect(() => loadProject(PROJECT.replace("position: { x: x", "position: { x: id2"))).toThrow(/x-fieldname "id2"/);
  });
});
