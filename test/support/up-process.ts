/**
 * `espmesh up` as a child process for end-to-end tests: started with `--port 0 --control-port 0`
 * and the given arguments; ready once it printed the gateway URL and the control address.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(root, "services/cli/bin/espmesh.mjs");

/** A running `espmesh up` child process. */
export interface UpProcess {
  readonly child: ChildProcess;
  readonly gatewayUrl: string;
  readonly controlAddress: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export async function startUp(args: readonly string[], env: Record<string, string>): Promise<UpProcess> {
  const child = spawn(process.execPath, [bin, "up", "--port", "0", "--control-port", "0", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once("exit", (code, signal) => resolveExit({ code, signal })),
  );
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let gatewayUrl = "";
  let controlAddress = "";
  const ready = new Promise<void>((resolveReady, reject) => {
    lines.on("line", (line) => {
      output += `${line}\n`;
      gatewayUrl ||= /^\s+gateway\s+(http:\/\/\S+)/.exec(line)?.[1] ?? "";
      controlAddress ||= /^\s+control\s+(\S+:\d+)/.exec(line)?.[1] ?? "";
      if (gatewayUrl !== "" && controlAddress !== "") resolveReady();
    });
    void exited.then(({ code }) => reject(new Error(`espmesh up exited (${code}) before it was ready:\n${output}`)));
  });
  await ready;
  return { child, gatewayUrl, controlAddress, exited, output: () => output };
}
