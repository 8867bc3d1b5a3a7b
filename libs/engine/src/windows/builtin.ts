import { aggregateKind } from "./aggregate.js";
import { computeKind } from "./compute.js";
import { copyKind } from "./copy.js";
import { counterKind } from "./counter.js";
import { filterKind } from "./filter.js";
import { geofenceKind } from "./geofence/geofence-kind.js";
import { joinKind } from "./join.js";
import { patternKind } from "./pattern/pattern-kind.js";
import { registerWindowKind, windowKind } from "./registry.js";
import { sourceKind } from "./source.js";
import { unionKind } from "./union.js";
import type { WindowKind } from "./window-kind.js";

const BUILTIN: readonly WindowKind[] = [
  sourceKind,
  filterKind,
  computeKind,
  copyKind,
  aggregateKind,
  joinKind,
  unionKind,
  counterKind,
  patternKind,
  geofenceKind,
];

/** Registers the built-in window kinds (idempotent). */
export function registerBuiltinWindows(): void {
  for (const kind of BUILTIN) if (windowKind(kind.kind) === undefined) registerWindowKind(kind);
}
