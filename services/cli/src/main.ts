import { Command, CommanderError } from "commander";
import { registerDeployCommand } from "./commands/deploy.js";
import { registerPublishCommand } from "./commands/publish.js";
import { registerRunCommand } from "./commands/run.js";
import { registerStatusCommand } from "./commands/status.js";
import { registerSubscribeCommand } from "./commands/subscribe.js";
import { registerUpCommand } from "./commands/up.js";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Standard output (events, tables). */
  out(text: string): void;
  /** Standard error (diagnostics). */
  err(text: string): void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Builds the `espmesh` program. Each subcommand lives in its own file under `commands/` and
 * registers itself here; a command's action returns its exit code.
 */
export function createProgram(io: CliIo = processIo, setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command("espmesh")
    .description("espmesh: an event stream processing mesh")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();
  registerUpCommand(program, io, setExitCode);
  registerRunCommand(program, io, setExitCode);
  registerDeployCommand(program, io, setExitCode);
  registerPublishCommand(program, io, setExitCode);
  registerSubscribeCommand(program, io, setExitCode);
  registerStatusCommand(program, io, setExitCode);
  return program;
}

/** Runs the CLI with process arguments (`argv[0]` node, `argv[1]` the script); returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const program = createProgram(io, (value) => {
    code = value;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.err(`espmesh: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
