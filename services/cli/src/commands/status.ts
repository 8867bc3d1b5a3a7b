import { toJson } from "@bufbuild/protobuf";
import { DeploymentStatusSchema } from "@espmesh/proto";
import type { Command } from "commander";
import type { CliIo } from "../main.js";
import { addAddressOption } from "../mesh/address.js";
import { withClient } from "../mesh/connect.js";
import { deploymentDetail, deploymentsTable } from "../mesh/status-table.js";

/** `espmesh status [PROJECT]`: every deployment as a table, or one in detail with its workers. */
export function registerStatusCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const command = program
    .command("status")
    .description("show the deployments (a table), or one deployment and its workers")
    .argument("[project]", "deployment name")
    .option("--json", "print the status as JSON");
  addAddressOption(command).addHelpText(
    "after",
    `
Examples:
  espmesh status
  espmesh status trades`,
  );
  command.action(async (project: string | undefined, options: Record<string, unknown>) => {
    const statuses = await withClient(options, async (client) =>
      project === undefined ? client.list() : [await client.status(project)],
    );
    if (options.json === true) {
      const json = statuses.map((status) => toJson(DeploymentStatusSchema, status));
      io.out(`${JSON.stringify(project === undefined ? json : json[0], null, 2)}\n`);
    } else {
      const [first] = statuses;
      io.out(project === undefined || first === undefined ? deploymentsTable(statuses) : deploymentDetail(first));
    }
    setExitCode(0);
  });
}
