/** A column of a {@link formatTable} table. */
export interface TableColumn {
  readonly title: string;
  /** Numbers read better right-aligned. @default "left" */
  readonly align?: "left" | "right";
}

/**
 * Lays rows out as a plain-text table: a header, a rule, then one line per row, columns padded
 * to their widest cell and separated by two spaces. Every line ends with a newline.
 */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) => Math.max(column.title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? "";
        const width = widths[i] ?? 0;
        return column.align === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((column) => column.title)),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...rows.map(line),
  ]
    .map((text) => `${text}\n`)
    .join("");
}

/** A number with thousands separators and at most `digits` fraction digits. */
export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
