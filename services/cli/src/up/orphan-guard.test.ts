import { spawn } from "node:child_process";
import { once } from "node:events";
import { waitFor } from "@espmesh/testing";
import { describe, expect, it } from "vitest";

const guard = new URL("./orphan-guard.ts", import.meta.url).href;
const tsx = import.meta.resolve("tsx");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the orphan guard", () => {
  it("stops a child whose parent was killed with SIGKILL, through the child's own SIGTERM handler", async () => {
    // The parent starts a guarded child that would run forever, prints its pid, then waits.
    const child = `
      process.on("SIGTERM", () => { process.stdout.write("draining\\n"); process.exit(0); });
      setInterval(() => {}, 1000);`;
    const parent = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["--import", ${JSON.stringify(tsx)}, "--import", ${JSON.stringify(guard)}, "-e", ${JSON.stringify(child)}], {
        env: { ...process.env, ESPMESH_PARENT_PID: String(process.pid) },
        stdio: ["ignore", "inherit", "inherit"],
      });
      process.stdout.write(child.pid + "\\n");
      setInterval(() => {}, 1000);`;
    const run = spawn(process.execPath, ["-e", parent], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    run.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await waitFor(() => /^\d+\n/.test(output), { timeoutMs: 10_000, message: "the child's pid" });
      const childPid = Number(output.split("\n")[0]);
      expect(alive(childPid)).toBe(true);
      run.kill("SIGKILL");
      await once(run, "exit");
      await waitFor(() => !alive(childPid), { timeoutMs: 10_000, message: "the orphaned child to stop" });
      expect(output).toMatch(/draining/);
    } finally {
      if (run.exitCode === null && run.signalCode === null) run.kill("SIGKILL");
    }
  }, 20_000);
});
