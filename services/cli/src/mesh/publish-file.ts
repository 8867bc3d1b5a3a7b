import { createReadStream } from "node:fs";
import type { EspClient } from "@espmesh/client";
import { opcodeName, type Row, type Schema } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { Presets, SingleBar } from "cli-progress";
import { InputError, inputFormat, readInput } from "../run/read-input.js";
import { formatNumber } from "./text-table.js";

/** Options of {@link publishFile}. */
export interface PublishFileOptions {
  readonly client: EspClient;
  readonly project: string;
  readonly window: string;
  /** A CSV (`.csv`) or JSON-lines (`.jsonl`, `.ndjson`, `.json`) file, as `espmesh run` reads them. */
  readonly file: string;
  /** Where the progress bar is drawn (drawn only on a terminal). */
  readonly progress: NodeJS.WritableStream & { isTTY?: boolean };
  /** Rows handed to the publisher per call. @default 1000 */
  readonly chunkRows?: number;
}

/** What {@link publishFile} did. */
export interface PublishSummary {
  readonly events: number;
  readonly acknowledged: number;
  readonly seconds: number;
}

/** Counts the lines of a file (an estimate of its events for the progress bar). */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 10 ? lines : lines + 1;
}

function toRow(schema: Schema, values: readonly unknown[], opcode: number): Row {
  const row: Row = {};
  schema.fields.forEach((field, i) => {
    row[field.name] = (values[i] ?? null) as Row[string];
  });
  if (opcode !== 1) row._opcode = opcodeName(opcode);
  return row;
}

/**
 * Publishes the events of a file into a source window through the SDK and waits until the mesh
 * acknowledged every one (committed it). The window's schema comes from the mesh; bad input
 * stops the publishing with a message naming the file, line and field (events before it stay
 * published). Shows a progress bar with events per second on a terminal.
 */
export async function publishFile(options: PublishFileOptions): Promise<PublishSummary> {
  const { client, project, window, file } = options;
  const format = inputFormat(file);
  const estimate = Math.max(1, (await countLines(file)) - (format === "csv" ? 1 : 0));
  const schema = await client.schema(project, window);
  const publisher = client.publisher(project, window, { schema, sourcePrefix: "cli" });
  const bar = new SingleBar(
    {
      stream: options.progress,
      format: "{bar} {percentage}% | {value}/{total} events | {rate} events/s | {acked} acknowledged",
      hideCursor: true,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const startedAt = Date.now();
  const rate = () => formatNumber((publisher.acknowledged * 1000) / Math.max(1, Date.now() - startedAt));
  bar.start(estimate, 0, { rate: "0", acked: "0" });
  const chunkRows = options.chunkRows ?? 1000;
  let events = 0;
  let chunk: Row[] = [];
  const send = async () => {
    await publisher.publish(chunk);
    events += chunk.length;
    chunk = [];
    bar.setTotal(Math.max(estimate, events));
    bar.update(events, { rate: rate(), acked: formatNumber(publisher.acknowledged) });
  };
  try {
    for await (const record of readInput(file, window, schema)) {
      chunk.push(toRow(schema, record.values, record.opcode));
      if (chunk.length >= chunkRows) await send();
    }
    if (chunk.length > 0) await send();
    const ticker = setInterval(
      () => bar.update(events, { rate: rate(), acked: formatNumber(publisher.acknowledged) }),
      200,
    );
    try {
      await publisher.close();
    } finally {
      clearInterval(ticker);
    }
    bar.setTotal(events);
    bar.update(events, { rate: rate(), acked: formatNumber(publisher.acknowledged) });
  } catch (error) {
    // What was published before the failure is still delivered; its acknowledgement is awaited.
    const closing = await publisher.close().then(
      () => "",
      (closeError: unknown) => `; closing the publisher failed too: ${MeshError.from(closeError).message}`,
    );
    if (error instanceof InputError) {
      throw new MeshError(
        "INVALID_ARGUMENT",
        `${error.message} (${formatNumber(events)} events before it were published${closing})`,
        { details: { file }, cause: error },
      );
    }
    const failure = MeshError.from(error);
    throw closing === ""
      ? failure
      : new MeshError(failure.code, `${failure.message}${closing}`, { details: failure.details, cause: failure });
  } finally {
    bar.stop();
  }
  return { events, acknowledged: publisher.acknowledged, seconds: (Date.now() - startedAt) / 1000 };
}
