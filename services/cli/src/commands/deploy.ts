import { readFile } from "node:fs/promises";
import { MeshError } from "@espmesh/telemetry";
import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { addAddressOption } from "../mesh/address.js";
import { withClient } from "../mesh/connect.js";
import { type DeployFlags, deploymentNameOf, deploySettings } from "../mesh/deploy-settings.js";
import { deploymentDetail } from "../mesh/status-table.js";
import { integerOption } from "./parse.js";

async function readProject(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new MeshError("INVALID_ARGUMENT", `cannot read the project file ${file}: ${(error as Error).message}`, {
      details: { file },
    });
  }
}

/**
 * `espmesh deploy FILE [--name N] [--policy P] [--hash-fields a,b] [--min-replicas N]
 * [--max-replicas N] [--target-cpu N] [--settings JSON|@file] [--wait]`: creates or replaces a
 * deployment and prints its status.
 */
export function registerDeployCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const command = program
    .command("deploy")
    .description("deploy a project (ESP XML, YAML or JSON) onto the mesh, or replace a deployment")
    .argument("<file>", "the project file")
    .option("-n, --name <name>", "deployment name [default: the file name, lower-cased]")
    .option("--policy <policy>", "routing policy of every source window: round-robin, multicast, hash, consistent-hash")
    .option("--hash-fields <a,b>", "hash fields of every source window (hash, consistent-hash)")
    .option("--min-replicas <n>", "fewest workers")
    .option("--max-replicas <n>", "most workers (autoscaling between min and max)")
    .option("--target-cpu <percent>", "average worker CPU autoscaling aims at, in percent of a core")
    .option(
      "--settings <json|@file>",
      "deployment settings JSON, or @file to read it from a file; the flags above apply on top",
    )
    .option("--wait", "wait until every worker is ready")
    .option("--timeout <seconds>", "how long --wait waits", "60");
  addAddressOption(command).addHelpText(
    "after",
    `
Settings JSON: {"routing": {"<source window>": {"policy", "hashFields"}}, "minReplicas",
"maxReplicas", "targetCpuUtilization", "state": "service|none", "shards", "checkpointIntervalMs"}.
The control plane checks them against the project: a stateful window whose key is not covered by
the hash fields of its inputs is refused, naming the window and fields.

Examples:
  espmesh deploy trades.xml
  espmesh deploy trades.xml --name trades --hash-fields symbol --min-replicas 2 --max-replicas 4
  espmesh deploy project.yaml --settings @settings.json --wait`,
  );
  command.action(async (file: string, options: DeployFlags & Record<string, unknown>) => {
    const project = await readProject(file);
    const name = typeof options.name === "string" ? options.name : deploymentNameOf(file);
    const settings = await deploySettings(project, options);
    const timeoutMs = integerOption("timeout", options.timeout, 1) * 1000;
    const status = await withClient(options, async (client) => {
      let current = await client.deploy(name, project, settings);
      const deadline = Date.now() + timeoutMs;
      while (
        options.wait === true &&
        (current.replicasReady < current.replicasDesired || current.replicasDesired === 0)
      ) {
        if (Date.now() > deadline) {
          throw new MeshError(
            "DEADLINE_EXCEEDED",
            `deployment ${name}: ${current.replicasReady} of ${current.replicasDesired} workers ready after ${timeoutMs / 1000} s`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
        current = await client.status(name);
      }
      return current;
    });
    io.out(deploymentDetail(status));
    setExitCode(0);
  });
}
