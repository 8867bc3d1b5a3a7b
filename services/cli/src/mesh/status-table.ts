import type { DeploymentStatus } from "@espmesh/proto";
import { formatTable } from "./text-table.js";

/** One line per deployment: name, phase, ready/desired workers, balancer, source windows. */
export function deploymentsTable(deployments: readonly DeploymentStatus[]): string {
  if (deployments.length === 0) return "no deployments\n";
  return formatTable(
    [
      { title: "NAME" },
      { title: "PHASE" },
      { title: "READY", align: "right" },
      { title: "RESTARTS", align: "right" },
      { title: "EVENTS/S", align: "right" },
      { title: "IN FLIGHT", align: "right" },
      { title: "BALANCER" },
      { title: "SOURCES" },
      { title: "MESSAGE" },
    ],
    deployments.map((status) => [
      status.name,
      status.phase,
      `${status.replicasReady}/${status.replicasDesired}`,
      String(status.workers.reduce((sum, worker) => sum + worker.restarts, 0)),
      status.balancerReachable ? Math.round(status.eventsPerSecond).toString() : "-",
      status.balancerReachable ? status.inFlight.toString() : "-",
      status.balancerAddress || "-",
      status.sourceWindows.join(",") || "-",
      status.message,
    ]),
  );
}

function settingsLine(settingsJson: string): string {
  try {
    const settings = JSON.parse(settingsJson) as {
      minReplicas?: number;
      maxReplicas?: number;
      targetCpuUtilization?: number;
      state?: string;
      shards?: number;
      routing?: Record<string, { policy: string; hashFields?: string[] }>;
    };
    const routing = Object.entries(settings.routing ?? {})
      .map(
        ([window, route]) =>
          `${window}=${route.policy}${route.hashFields?.length ? `(${route.hashFields.join(",")})` : ""}`,
      )
      .join(" ");
    return `replicas ${settings.minReplicas}..${settings.maxReplicas} at ${settings.targetCpuUtilization}% CPU, state ${settings.state}, ${settings.shards} shards, routing ${routing || "-"}`;
  } catch {
    return settingsJson;
  }
}

function trafficLines(status: DeploymentStatus): string[] {
  if (!status.balancerReachable) return ["  traffic   unknown (the balancer did not answer)"];
  const lines = [
    `  traffic   ${Math.round(status.eventsPerSecond)} events/s, ${status.inFlight} in flight, ${status.heldEvents} held, ${status.shardMoves} shard moves`,
  ];
  for (const lag of status.inputLag) {
    const backlog = lag.error ? `unknown (${lag.error})` : `${lag.pending} pending, ${lag.ackPending} awaiting commit`;
    lines.push(`  input     ${lag.sourceWindow} <- ${lag.stream}/${lag.durable}: ${backlog}`);
  }
  return lines;
}

/** One deployment in detail: its settings, traffic, scaling, then a line per worker. */
export function deploymentDetail(status: DeploymentStatus): string {
  const lines = [
    `deployment ${status.name}: ${status.phase}${status.message ? ` (${status.message})` : ""}`,
    `  workers   ${status.replicasReady} ready of ${status.replicasDesired}`,
    `  balancer  ${status.balancerAddress || "-"}`,
    `  sources   ${status.sourceWindows.join(", ") || "-"}`,
    `  format    ${status.projectFormat}`,
    `  settings  ${settingsLine(status.settingsJson)}`,
    ...trafficLines(status),
  ];
  const scaling = status.lastScaling;
  if (scaling !== undefined && scaling.atMs > 0n) {
    const at = new Date(Number(scaling.atMs)).toISOString();
    lines.push(`  scaled    ${scaling.fromReplicas} -> ${scaling.toReplicas} at ${at}: ${scaling.reason}`);
  }
  const header = `${lines.map((line) => `${line}\n`).join("")}\n`;
  if (status.workers.length === 0) return `${header}no workers\n`;
  return (
    header +
    formatTable(
      [
        { title: "WORKER" },
        { title: "ADDRESS" },
        { title: "PID", align: "right" },
        { title: "READY" },
        { title: "SHARDS", align: "right" },
        { title: "RESTARTS", align: "right" },
      ],
      status.workers.map((worker) => [
        worker.id,
        worker.address || "-",
        worker.pid === 0 ? "-" : String(worker.pid),
        worker.ready ? "yes" : "no",
        String(worker.shardsOwned),
        String(worker.restarts),
      ]),
    )
  );
}
