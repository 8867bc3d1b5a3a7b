/**
 * Output helpers every benchmark uses: a readable table, then one JSON line per figure
 * (format in STYLE.md). Benchmarks measure and report; they never assert timing.
 */

/** One figure of a benchmark. */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** The peer or baseline measured beside it in the same run. */
  baseline?: number;
}

/** Prints rows as an aligned table with a title. */
export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  const first = rows[0];
  if (!first) return;
  const headers = Object.keys(first);
  const cell = (value: string | number | undefined) =>
    typeof value === "number" ? formatNumber(value) : (value ?? "");
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => cell(r[h]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padStart(widths[i] ?? 0)).join("  ");
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(headers.map((h) => cell(row[h]))));
}

/** Prints one JSON line per figure, with `ratio` = value / baseline where a baseline ran. */
export function emit(...figures: Figure[]): void {
  for (const figure of figures) {
    const line: Record<string, string | number> = { ...figure };
    if (figure.baseline !== undefined && figure.baseline !== 0) {
      line.ratio = Number((figure.value / figure.baseline).toFixed(3));
    }
    console.log(JSON.stringify(line));
  }
}

/** Human-readable number: 1234567 -> "1.23M". */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (Number.isInteger(value)) return String(value);
  return value.toPrecision(4);
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds after a warm-up and returns operations per
 * second, where each call performs `opsPerCall` operations.
 */
export function measure(fn: () => void, opsPerCall: number, ms = 1000): number {
  const warmUntil = performance.now() + Math.min(300, ms / 3);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (calls * opsPerCall) / ((now - start) / 1000);
}
