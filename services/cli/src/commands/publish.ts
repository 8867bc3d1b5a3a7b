import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { addAddressOption } from "../mesh/address.js";
import { withClient } from "../mesh/connect.js";
import { publishFile } from "../mesh/publish-file.js";
import { formatNumber } from "../mesh/text-table.js";

/** `espmesh publish PROJECT WINDOW FILE`: publishes a CSV or JSON-lines file and waits for its acknowledgement. */
export function registerPublishCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const command = program
    .command("publish")
    .description(
      "publish the events of a CSV or JSON-lines file into a source window, and wait until they are committed",
    )
    .argument("<project>", "deployment name")
    .argument("<window>", "source window")
    .argument("<file>", "events: .csv (header of field names) or .jsonl/.ndjson (one object per line)");
  addAddressOption(command).addHelpText(
    "after",
    `
Input files as 'espmesh run' reads them: CSV with a header of field names and an optional
"opcode" column (insert, update, delete, upsert); JSON lines with one object per line by field
name and an optional "_opcode". Stamps may be ISO-8601 or integer microseconds.

A progress bar with events per second is drawn on stderr when it is a terminal; a summary line is
printed at the end. Bad input stops with exit code 1 and a message naming the line and field.

Example:
  espmesh publish trades Trades trades.csv`,
  );
  command.action(async (project: string, window: string, file: string, options: Record<string, unknown>) => {
    const summary = await withClient(options, (client) =>
      publishFile({ client, project, window, file, progress: process.stderr }),
    );
    const rate = summary.seconds > 0 ? summary.events / summary.seconds : summary.events;
    io.err(
      `published ${formatNumber(summary.events)} events into ${project}/${window} in ${summary.seconds.toFixed(1)} s ` +
        `(${formatNumber(rate)} events/s); ${formatNumber(summary.acknowledged)} acknowledged\n`,
    );
    setExitCode(0);
  });
}
