import type { Event, Row } from "@espmesh/events";
import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { addAddressOption } from "../mesh/address.js";
import { withClient } from "../mesh/connect.js";
import { integerOption } from "./parse.js";

function jsonFields(fields: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    out[name] = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
  }
  return out;
}

/** One output event as a JSON line: `{"opcode":"insert","fields":{...}}`. */
export function eventLine(event: Event): string {
  return `${JSON.stringify({ opcode: event.opcode, fields: jsonFields(event.fields) })}\n`;
}

/** `espmesh subscribe PROJECT WINDOW`: a window's output events as JSON lines until Ctrl-C. */
export function registerSubscribeCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const command = program
    .command("subscribe")
    .description("print a window's output events as JSON lines until Ctrl-C")
    .argument("<project>", "deployment name")
    .argument("<window>", "window")
    .option("--snapshot", "print the window's current rows (as inserts) first")
    .option("--count <n>", "stop after this many events");
  addAddressOption(command).addHelpText(
    "after",
    `
Output (stdout), one JSON object per line:
  {"opcode":"insert","fields":{"symbol":"IBM","volume":1300}}

Example:
  espmesh subscribe trades BySymbol --snapshot`,
  );
  command.action(async (project: string, window: string, options: Record<string, unknown>) => {
    const limit = options.count === undefined ? Number.POSITIVE_INFINITY : integerOption("count", options.count, 1);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let seen = 0;
    try {
      await withClient(options, async (client) => {
        const events = client.subscribe(project, window, { signal: stop.signal, snapshot: options.snapshot === true });
        for await (const event of events) {
          io.out(eventLine(event));
          if (++seen >= limit) break;
        }
      });
      setExitCode(0);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      stop.abort();
    }
  });
}
