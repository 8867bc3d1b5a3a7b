import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { runProject } from "../run/run-project.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `espmesh run PROJECT --input WINDOW=FILE ... [--output WINDOW ...] [--final] [--order-by FIELD]`:
 * runs a project offline over input files and prints what its windows emit as JSON lines.
 */
export function registerRunCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("run")
    .description("run a project over input files, offline, and print window output as JSON lines")
    .argument("<project>", "project file: ESP XML, YAML or JSON")
    .option(
      "-i, --input <window=file>",
      "feed a CSV (.csv) or JSON-lines (.jsonl, .ndjson) file into a source window (repeatable)",
      collect,
      [],
    )
    .option("-o, --output <window>", "print this window (repeatable; default every window)", collect, [])
    .option("--final", "print the final rows of each window, sorted by key, instead of every event")
    .option("--order-by <field>", "merge the input files by this field instead of feeding them one after another")
    .option(
      "--batch-size <n>",
      "events per batch (aggregates emit one event per group per batch) [default: 1, or 4096 with --final]",
    )
    .option("--shards <n>", "shard count of the engine", "4096")
    .addHelpText(
      "after",
      `
Input files: CSV with a header of field names and an optional "opcode" column (insert, update,
delete, upsert, or i/u/d/p); JSON lines with one object per line by field name and an optional
"_opcode". Stamps may be ISO-8601 or integer microseconds, dates ISO-8601 or integer seconds.
An empty CSV value is null. The engine clock is the wall clock: time-based retention without an
event-time field, Timed aggregates and counters see real time.

Output (stdout), one JSON object per line:
  events:   {"window":"W","opcode":"insert","fields":{...}}
  --final:  {"window":"W","fields":{...}}

Bad input stops the run with exit code 1 and a message naming the file, line and field.
Events a window rejects (like an update of a missing key) are counted on stderr.

Example:
  espmesh run trades.xml --input Trades=trades.csv --input Traders=traders.csv --output BySecurity --final`,
    )
    .action(async (project: string, options: Record<string, unknown>) => {
      const batchSize = options.batchSize === undefined ? undefined : Number(options.batchSize);
      const shardCount = Number(options.shards);
      if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) {
        throw new Error(`--batch-size must be a positive integer, got "${String(options.batchSize)}"`);
      }
      const code = await runProject(
        {
          project,
          inputs: options.input as string[],
          outputs: options.output as string[],
          final: options.final === true,
          orderBy: options.orderBy as string | undefined,
          batchSize,
          shardCount,
        },
        io,
      );
      setExitCode(code);
    });
}
