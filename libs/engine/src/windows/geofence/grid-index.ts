import type { Geometry } from "./geometry.js";

const NONE: readonly Geometry[] = [];

/** Cells of a grid: at most this many per geometry on average (and at least MIN_CELLS). */
const CELLS_PER_GEOMETRY = 4;
const MIN_CELLS = 1024;

function median(values: number[]): number {
  const positive = values.filter((value) => value > 0).sort((a, b) => a - b);
  return positive.length === 0 ? 0 : positive[positive.length >> 1]!;
}

/**
 * A uniform grid over the bounding boxes of geometries, so a lookup reads the few cells around a
 * point instead of every geometry. Cells are a dense array over the area the geometries covered
 * when the grid was last built (anything outside is kept in the border cells, still correct).
 * The cell size is fixed (`10^factor` coordinate units) or derived from the geometries: the
 * median bounding-box width and height. The grid is rebuilt whenever the number of geometries
 * doubles, and never holds more than 4 cells per geometry (cells grow when the area is sparse).
 * A geometry that would cover more than `maxCells` cells goes on a short list every lookup reads.
 */
export class GridIndex {
  private cells: (Geometry[] | undefined)[] = [];
  private largeList: Geometry[] = [];
  private readonly all = new Set<Geometry>();
  private originX = 0;
  private originY = 0;
  private nx = 1;
  private ny = 1;
  private sizeX: number;
  private sizeY: number;
  private builtAt = 0;
  private stamp = 0;
  private readonly found: Geometry[] = [];

  constructor(
    private readonly fixedX: number | undefined,
    private readonly fixedY: number | undefined,
    private readonly maxCells: number,
    /** Cell size used when the geometries give none (autosized grids). */
    private readonly initial: number,
  ) {
    this.sizeX = fixedX ?? initial;
    this.sizeY = fixedY ?? initial;
    this.cells = [undefined];
  }

  /** Number of geometries. */
  get size(): number {
    return this.all.size;
  }

  /** Current cell size (x, y) and grid dimensions, for diagnostics. */
  get shape(): { sizeX: number; sizeY: number; nx: number; ny: number } {
    return { sizeX: this.sizeX, sizeY: this.sizeY, nx: this.nx, ny: this.ny };
  }

  private cellX(x: number): number {
    const i = Math.floor((x - this.originX) / this.sizeX);
    return i < 0 ? 0 : i >= this.nx ? this.nx - 1 : i;
  }

  private cellY(y: number): number {
    const i = Math.floor((y - this.originY) / this.sizeY);
    return i < 0 ? 0 : i >= this.ny ? this.ny - 1 : i;
  }

  private place(g: Geometry): void {
    const x0 = this.cellX(g.minX);
    const x1 = this.cellX(g.maxX);
    const y0 = this.cellY(g.minY);
    const y1 = this.cellY(g.maxY);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > this.maxCells) {
      this.largeList.push(g);
      return;
    }
    for (let iy = y0; iy <= y1; iy++) {
      for (let ix = x0; ix <= x1; ix++) {
        const cell = iy * this.nx + ix;
        const list = this.cells[cell];
        if (list === undefined) this.cells[cell] = [g];
        else list.push(g);
      }
    }
  }

  private unplace(g: Geometry): void {
    const large = this.largeList.indexOf(g);
    if (large >= 0) {
      this.largeList.splice(large, 1);
      return;
    }
    const x0 = this.cellX(g.minX);
    const x1 = this.cellX(g.maxX);
    const y0 = this.cellY(g.minY);
    const y1 = this.cellY(g.maxY);
    for (let iy = y0; iy <= y1; iy++) {
      for (let ix = x0; ix <= x1; ix++) {
        const cell = iy * this.nx + ix;
        const list = this.cells[cell];
        if (list === undefined) continue;
        const index = list.indexOf(g);
        if (index >= 0) list.splice(index, 1);
        if (list.length === 0) this.cells[cell] = undefined;
      }
    }
  }

  /** Adds a geometry (the grid is rebuilt when the count doubled). */
  add(g: Geometry): void {
    this.all.add(g);
    if (this.all.size >= Math.max(1, this.builtAt * 2)) this.rebuild();
    else this.place(g);
  }

  /** Removes a geometry. */
  remove(g: Geometry): void {
    if (!this.all.delete(g)) return;
    this.unplace(g);
  }

  private rebuild(): void {
    const geometries = [...this.all];
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const g of geometries) {
      if (g.minX < minX) minX = g.minX;
      if (g.minY < minY) minY = g.minY;
      if (g.maxX > maxX) maxX = g.maxX;
      if (g.maxY > maxY) maxY = g.maxY;
    }
    const width = median(geometries.map((g) => g.maxX - g.minX));
    const height = median(geometries.map((g) => g.maxY - g.minY));
    const fallback = Math.max(width, height) || this.initial;
    let sizeX = this.fixedX ?? (width || fallback);
    let sizeY = this.fixedY ?? (height || fallback);
    const spanX = Math.max(maxX - minX, sizeX);
    const spanY = Math.max(maxY - minY, sizeY);
    const budget = Math.max(MIN_CELLS, CELLS_PER_GEOMETRY * geometries.length);
    const wanted = Math.ceil(spanX / sizeX) * Math.ceil(spanY / sizeY);
    if (wanted > budget) {
      const scale = Math.sqrt(wanted / budget);
      sizeX *= scale;
      sizeY *= scale;
    }
    this.sizeX = sizeX;
    this.sizeY = sizeY;
    this.originX = minX;
    this.originY = minY;
    this.nx = Math.max(1, Math.ceil(spanX / sizeX));
    this.ny = Math.max(1, Math.ceil(spanY / sizeY));
    this.cells = new Array<Geometry[] | undefined>(this.nx * this.ny).fill(undefined);
    this.largeList = [];
    for (const g of geometries) this.place(g);
    this.builtAt = geometries.length;
  }

  private consider(g: Geometry, stamp: number, minX: number, maxX: number, minY: number, maxY: number): void {
    if (g.stamp === stamp) return;
    g.stamp = stamp;
    if (g.maxX < minX || g.minX > maxX || g.maxY < minY || g.minY > maxY) return;
    this.found.push(g);
  }

  /**
   * The geometries that may meet the box of half-extent (dx, dy) around (x, y): every geometry
   * whose bounding box meets it, and possibly a few more (a lookup checks each exactly). The
   * array is only valid until the next call.
   */
  query(x: number, y: number, dx: number, dy: number): readonly Geometry[] {
    if (this.all.size === 0) return NONE;
    const minX = x - dx;
    const maxX = x + dx;
    const minY = y - dy;
    const maxY = y + dy;
    const x0 = this.cellX(minX);
    const x1 = this.cellX(maxX);
    const y0 = this.cellY(minY);
    const y1 = this.cellY(maxY);
    if (x0 === x1 && y0 === y1 && this.largeList.length === 0) return this.cells[y0 * this.nx + x0] ?? NONE;
    const found = this.found;
    found.length = 0;
    const stamp = ++this.stamp;
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > this.all.size) {
      for (const g of this.all) this.consider(g, stamp, minX, maxX, minY, maxY);
      return found;
    }
    const cells = this.cells;
    const nx = this.nx;
    for (let iy = y0; iy <= y1; iy++) {
      for (let ix = x0; ix <= x1; ix++) {
        const list = cells[iy * nx + ix];
        if (list === undefined) continue;
        for (let i = 0; i < list.length; i++) this.consider(list[i]!, stamp, minX, maxX, minY, maxY);
      }
    }
    const large = this.largeList;
    for (let i = 0; i < large.length; i++) this.consider(large[i]!, stamp, minX, maxX, minY, maxY);
    return found;
  }
}
