import { fileURLToPath } from "node:url";
import type { ProcessCommand } from "@espmesh/control-plane";

/** The entry point of a worker or balancer process, in this checkout. */
function entryPoint(service: "worker" | "balancer"): string {
  return fileURLToPath(new URL(`../../../${service}/src/main.ts`, import.meta.url));
}

/**
 * The command of a worker or balancer process `espmesh up` runs: node with tsx (resolved from
 * here, so it works from any working directory) and the orphan guard preloaded, which stops the
 * child when `up` is gone (see orphan-guard.ts; it needs `ESPMESH_PARENT_PID` in the environment).
 */
export function childCommand(service: "worker" | "balancer"): ProcessCommand {
  const guard = new URL("./orphan-guard.ts", import.meta.url).href;
  return {
    command: process.execPath,
    args: ["--import", import.meta.resolve("tsx"), "--import", guard, entryPoint(service)],
  };
}
