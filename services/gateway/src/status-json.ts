import type { DeploymentStatus } from "@espmesh/proto";

/** One worker of a deployment, as the gateway answers it. */
export interface WorkerJson {
  id: string;
  address: string;
  /** Process id where the local driver runs the worker; 0 otherwise. */
  pid: number;
  ready: boolean;
  shardsOwned: number;
  restarts: number;
}

/** The backlog of one input binding. */
export interface InputLagJson {
  sourceWindow: string;
  stream: string;
  durable: string;
  pending: number;
  ackPending: number;
  /** Why pending and ackPending are unknown; empty when known. */
  error: string;
}

/** A deployment's status as plain JSON: numbers instead of bigints, settings parsed. */
export interface DeploymentStatusJson {
  name: string;
  phase: string;
  message: string;
  projectFormat: string;
  /** The deployment settings (routing per source window, replicas, CPU target, state, shards, ...). */
  settings: Record<string, unknown>;
  sourceWindows: string[];
  balancerAddress: string;
  replicasDesired: number;
  replicasReady: number;
  workers: WorkerJson[];
  /** False when the balancer did not answer: eventsPerSecond, inFlight, shardMoves, heldEvents and inputLag read 0. */
  balancerReachable: boolean;
  eventsPerSecond: number;
  inFlight: number;
  shardMoves: number;
  heldEvents: number;
  /** The backlog of every source window fed from a subject. */
  inputLag: InputLagJson[];
  lastScaling: { fromReplicas: number; toReplicas: number; reason: string; at: string } | null;
}

function parseSettings(text: string): Record<string, unknown> {
  if (text === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  } catch {
    // The control plane stores settings it validated, so this is not expected; show them as they are.
    return { unparsed: text };
  }
}

/** Converts the protobuf DeploymentStatus into {@link DeploymentStatusJson}. */
export function statusToJson(status: DeploymentStatus): DeploymentStatusJson {
  const scaling = status.lastScaling;
  return {
    name: status.name,
    phase: status.phase,
    message: status.message,
    projectFormat: status.projectFormat,
    settings: parseSettings(status.settingsJson),
    sourceWindows: [...status.sourceWindows],
    balancerAddress: status.balancerAddress,
    replicasDesired: status.replicasDesired,
    replicasReady: status.replicasReady,
    workers: status.workers.map((worker) => ({
      id: worker.id,
      address: worker.address,
      pid: worker.pid,
      ready: worker.ready,
      shardsOwned: worker.shardsOwned,
      restarts: worker.restarts,
    })),
    balancerReachable: status.balancerReachable,
    eventsPerSecond: status.eventsPerSecond,
    inFlight: Number(status.inFlight),
    shardMoves: Number(status.shardMoves),
    heldEvents: Number(status.heldEvents),
    inputLag: status.inputLag.map((lag) => ({
      sourceWindow: lag.sourceWindow,
      stream: lag.stream,
      durable: lag.durable,
      pending: Number(lag.pending),
      ackPending: Number(lag.ackPending),
      error: lag.error,
    })),
    lastScaling: scaling
      ? {
          fromReplicas: scaling.fromReplicas,
          toReplicas: scaling.toReplicas,
          reason: scaling.reason,
          at: new Date(Number(scaling.atMs)).toISOString(),
        }
      : null,
  };
}

const workerSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    address: { type: "string" },
    pid: { type: "integer" },
    ready: { type: "boolean" },
    shardsOwned: { type: "integer" },
    restarts: { type: "integer" },
  },
} as const;

/** JSON schema of {@link DeploymentStatusJson}, for the OpenAPI document and serialization. */
export const deploymentStatusSchema = {
  type: "object",
  description: "A deployment's status",
  properties: {
    name: { type: "string" },
    phase: { type: "string", description: '"running", or "failed" (see message)' },
    message: { type: "string" },
    projectFormat: { type: "string", enum: ["xml", "yaml", "json", ""] },
    settings: { type: "object", additionalProperties: true },
    sourceWindows: { type: "array", items: { type: "string" } },
    balancerAddress: { type: "string" },
    replicasDesired: { type: "integer" },
    replicasReady: { type: "integer" },
    workers: { type: "array", items: workerSchema },
    balancerReachable: { type: "boolean" },
    eventsPerSecond: { type: "number" },
    inFlight: { type: "integer" },
    shardMoves: { type: "integer" },
    heldEvents: { type: "integer" },
    inputLag: {
      type: "array",
      items: {
        type: "object",
        properties: {
          sourceWindow: { type: "string" },
          stream: { type: "string" },
          durable: { type: "string" },
          pending: { type: "integer" },
          ackPending: { type: "integer" },
          error: { type: "string" },
        },
      },
    },
    lastScaling: {
      type: ["object", "null"],
      properties: {
        fromReplicas: { type: "integer" },
        toReplicas: { type: "integer" },
        reason: { type: "string" },
        at: { type: "string", format: "date-time" },
      },
    },
  },
} as const;
