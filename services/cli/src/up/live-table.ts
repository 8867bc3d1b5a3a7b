import type { Row } from "@espmesh/events";
import { formatNumber, formatTable } from "../mesh/text-table.js";

/** What one frame of the demo's live table shows. */
export interface LiveFrame {
  /** Rows of the `BySymbol` window. */
  readonly rows: readonly Row[];
  /** Trades published so far, and acknowledged (committed by the workers). */
  readonly published: number;
  readonly acknowledged: number;
  /** Committed trades per second over the last refresh. */
  readonly eventsPerSecond: number;
  /** Workers ready, of those desired. */
  readonly workers: string;
  /** Why the table could not be refreshed, if it could not. */
  readonly problem?: string;
  /** Rows shown at most. @default 10 */
  readonly top?: number;
}

function numberOf(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

/** One frame of the live table: a status line, then the top symbols by volume of large trades. */
export function renderLiveFrame(frame: LiveFrame): string {
  const top = [...frame.rows].sort((a, b) => numberOf(b.volume) - numberOf(a.volume)).slice(0, frame.top ?? 10);
  const status =
    `trades demo | ${formatNumber(frame.eventsPerSecond)} events/s | ${formatNumber(frame.published)} published, ` +
    `${formatNumber(frame.acknowledged)} committed | workers ${frame.workers}\n`;
  const table = formatTable(
    [
      { title: "SYMBOL" },
      { title: "LARGE TRADES", align: "right" },
      { title: "VOLUME", align: "right" },
      { title: "AVG PRICE", align: "right" },
      { title: "MAX PRICE", align: "right" },
    ],
    top.map((row) => [
      String(row.symbol ?? ""),
      formatNumber(numberOf(row.trades)),
      formatNumber(numberOf(row.volume)),
      formatNumber(numberOf(row.avgPrice), 2),
      formatNumber(numberOf(row.maxPrice), 2),
    ]),
  );
  const footer = frame.problem === undefined ? "" : `(refresh failed: ${frame.problem})\n`;
  return status + table + footer;
}

/**
 * Writes frames to a terminal in place (each frame erases the previous one), or one after the
 * other, separated by a blank line, when the output is not a terminal.
 */
export function createFrameWriter(write: (text: string) => void, interactive: boolean): (frame: string) => void {
  let previousLines = 0;
  return (frame) => {
    if (!interactive) {
      write(`${frame}\n`);
      return;
    }
    // Cursor up over the previous frame, then erase to the end of the screen.
    const erase = previousLines > 0 ? `\u001b[${previousLines}F\u001b[0J` : "";
    write(erase + frame);
    previousLines = frame.split("\n").length - 1;
  };
}
