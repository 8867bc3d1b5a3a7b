import { uint32s } from "@espmesh/events/internal";
import type { RouteResult, RowSelection } from "./types.js";

let identityRows = new Uint32Array(0);

/** The rows 0 … count−1 (a shared read-only array: do not write to it). */
export function allRows(count: number): Uint32Array {
  if (identityRows.length < count) {
    identityRows = new Uint32Array(Math.max(count, identityRows.length * 2));
    for (let i = 0; i < identityRows.length; i++) identityRows[i] = i;
  }
  return identityRows.subarray(0, count);
}

/**
 * A selection of every row of a batch of `batchLength` rows, or of the given subset of them.
 */
export function wholeSelection(target: number, batchLength: number, rows?: Uint32Array): RowSelection {
  if (rows === undefined) return { target, rows: allRows(batchLength), count: batchLength, whole: true };
  return { target, rows, count: rows.length, whole: rows.length === batchLength };
}

/** Every row of a batch (or of the subset `rows`) to one target, or held when target is -1. */
export function routeWhole(target: number, batchLength: number, rows?: Uint32Array): RouteResult {
  const selection = wholeSelection(target, batchLength, rows);
  if (selection.count === 0) return { selections: [], held: undefined };
  return target < 0 ? { selections: [], held: selection } : { selections: [selection], held: undefined };
}

/**
 * Turns the selections of a split over a subset of rows (indexes into `rows`) into selections of
 * batch rows.
 */
export function selectionsOfSubset(result: RouteResult, rows: Uint32Array, batchLength: number): RouteResult {
  const map = (selection: RowSelection): RowSelection => {
    const mapped = selection.rows;
    for (let i = 0; i < mapped.length; i++) mapped[i] = rows[mapped[i] as number] as number;
    return { target: selection.target, rows: mapped, count: selection.count, whole: selection.count === batchLength };
  };
  return { selections: result.selections.map(map), held: result.held === undefined ? undefined : map(result.held) };
}

/** Per-target counts and fill positions of {@link splitByTarget}, reused across calls. */
let countScratch = new Uint32Array(16);
let fillScratch = new Uint32Array(16);

/**
 * Groups rows by target with one counting sort: rows `0 … count−1` whose target is
 * `targets[row]` (−1 = held). One Uint32Array holds every selection; each is a view of it.
 * @param targetCount one more than the largest target.
 */
export function splitByTarget(targets: Int32Array, count: number, targetCount: number): RouteResult {
  const size = targetCount + 2;
  if (countScratch.length < size) {
    countScratch = new Uint32Array(size * 2);
    fillScratch = new Uint32Array(size * 2);
  }
  // counts[0] counts held rows, counts[t + 2] target t.
  const counts = countScratch;
  counts.fill(0, 0, size);
  for (let r = 0; r < count; r++) {
    const t = (targets[r] as number) + 2;
    counts[t] = (counts[t] as number) + 1;
  }
  for (let t = 1; t < size; t++) counts[t] = (counts[t] as number) + (counts[t - 1] as number);
  // counts[t + 1] is now the start of target t (t = -1 … targetCount - 1).
  const rows = uint32s(count);
  const fill = fillScratch;
  for (let t = 0; t <= targetCount; t++) fill[t] = counts[t] as number;
  for (let r = 0; r < count; r++) {
    const t = (targets[r] as number) + 1;
    const at = fill[t] as number;
    fill[t] = at + 1;
    rows[at] = r;
  }
  const selections: RowSelection[] = [];
  let held: RowSelection | undefined;
  for (let t = -1; t < targetCount; t++) {
    const start = counts[t + 1] as number;
    const end = fill[t + 1] as number;
    if (end === start) continue;
    const selection = { target: t, rows: rows.subarray(start, end), count: end - start, whole: end - start === count };
    if (t < 0) held = selection;
    else selections.push(selection);
  }
  return { selections, held };
}
