import type { ProjectModel } from "@espmesh/engine";
import { type Batch, batchToEvents, type Row } from "@espmesh/events";

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/**
 * The final rows of windows, kept by applying their output events by key (so it works for every
 * window, stateful or not): insert, update and upsert set the row, delete removes it.
 */
export class FinalTables {
  private readonly tables = new Map<string, Map<string, Row>>();

  constructor(
    private readonly model: ProjectModel,
    private readonly windows: readonly string[],
  ) {
    for (const window of windows) this.tables.set(window, new Map());
  }

  apply(window: string, batch: Batch): void {
    const table = this.tables.get(window);
    if (table === undefined) return;
    const keys = this.model.window(window)!.keyFields;
    for (const event of batchToEvents(batch)) {
      const key = JSON.stringify(keys.map((name) => event.fields[name] ?? null));
      if (event.opcode === "delete") table.delete(key);
      else table.set(key, event.fields);
    }
  }

  /** Every final row, window by window, sorted by key. */
  *rows(): Generator<{ window: string; fields: Row }> {
    for (const window of this.windows) {
      const keys = this.model.window(window)!.keyFields;
      const rows = [...this.tables.get(window)!.values()];
      rows.sort((a, b) => {
        for (const key of keys) {
          const c = compare(a[key], b[key]);
          if (c !== 0) return c;
        }
        return 0;
      });
      for (const fields of rows) yield { window, fields };
    }
  }
}
