import { parseSchemaString, type Schema } from "@espmesh/events";
import type { BackoffOptions, MembershipSnapshot } from "@espmesh/registry";
import {
  compileRoutingPolicyOptions,
  createRoutingPolicy,
  type RoutingPolicy,
  type RoutingPolicyName,
} from "@espmesh/routing";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type * as grpc from "@grpc/grpc-js";
import { type KeyLayout, keyLayout } from "./wire-rows.js";

/**
 * Where the balancer learns the workers: a stream of membership snapshots, the current one
 * first. Every `Registry` of `@espmesh/registry` (Kubernetes, local, static) is one.
 */
export interface MembershipSource {
  watch(signal?: AbortSignal): AsyncIterable<MembershipSnapshot>;
}

/** The routing settings of one source window (the deployment settings of DESIGN §7). */
export interface SourceRouting {
  /**
   * The policy.
   * @default "consistent-hash"
   */
  policy?: RoutingPolicyName;
  /**
   * Fields whose key hash places a row (`hash`, `consistent-hash`).
   * @default the window's key fields
   */
  hashFields?: readonly string[];
  /**
   * Bounded load (`consistent-hash` on a stateless source only): rows of a member loaded above
   * this factor × the mean spill to the shard's next preferred member, and the window's shards
   * are not handed off.
   * @default undefined (off)
   */
  boundedLoad?: number;
  /**
   * The source feeds no keyed state, so rows may leave their shard's owner (needed by
   * `boundedLoad`).
   * @default false
   */
  stateless?: boolean;
}

/**
 * A source window fed from a durable JetStream consumer (a cascade's downstream side, DESIGN §9).
 * The balancer is the durable's only reader: each message goes through the same path as a
 * published batch (origin `js:<stream>:<durable>` and the stream sequence) and is acked once
 * every worker it reached committed it.
 */
export interface SourceInputBinding {
  /** The stream to read; created (or extended with `subject`) when `subject` is given. */
  stream: string;
  /** Only messages on this subject. @default every subject of the stream */
  subject?: string;
  /** The durable consumer's name (created if missing). */
  durable: string;
}

/** A source window the balancer accepts events for. */
export interface SourceWindowOptions {
  name: string;
  /** The window's schema, or its schema string (`id*:int64,name:string`). */
  schema: Schema | string;
  /** @default consistent-hash on the key fields */
  routing?: SourceRouting;
  /** Also read the window's events from a JetStream durable consumer. @default none */
  input?: SourceInputBinding;
}

/** What the balancer serves: one deployment of one project (fed later by the control plane). */
export interface BalancerDeployment {
  project: string;
  /**
   * The deployment's name (sent to workers in `ProcessOpen`).
   * @default "default"
   */
  deployment?: string;
  /** The project's source windows. */
  sources: readonly SourceWindowOptions[];
  /**
   * The fixed shard count S.
   * @default 4096
   */
  shardCount?: number;
}

/** Options of `createBalancer`. */
export interface BalancerOptions {
  deployment: BalancerDeployment;
  /** The workers. */
  membership: MembershipSource;
  /**
   * `host:port` to listen on (port 0 = any free port).
   * @default "127.0.0.1:0"
   */
  listen?: string;
  /**
   * This balancer's id, sent to workers.
   * @default "balancer-<pid>"
   */
  balancerId?: string;
  /**
   * Events sent to one worker and not yet committed, above which ingress stops reading. A worker
   * commits once per checkpoint interval, so this caps its rate at about this many events per
   * interval: size it for rate × (checkpoint interval + round trip). `maxInFlightBytes` bounds
   * the memory either way.
   * @default 1000000
   */
  maxInFlightEvents?: number;
  /**
   * Bytes sent to one worker and not yet committed, above which ingress stops reading.
   * @default 67108864 (64 MiB)
   */
  maxInFlightBytes?: number;
  /**
   * How long a worker may take to release shards before it is treated as lost.
   * @default 10000
   */
  releaseTimeoutMs?: number;
  /**
   * How long `stop()` waits for in-flight batches to be committed and acked.
   * @default 10000
   */
  drainTimeoutMs?: number;
  /**
   * Reconnection backoff towards a worker whose stream broke.
   * @default { initialMs: 100, maxMs: 5000 }
   */
  reconnect?: BackoffOptions;
  /** @default insecure */
  serverCredentials?: grpc.ServerCredentials;
  /** Credentials towards the workers. @default insecure */
  workerCredentials?: grpc.ChannelCredentials;
  /** NATS server URL(s) the sources' input bindings read from; required when a source has one. @default none */
  natsUrl?: string;
  /** @default noopLogger */
  logger?: Logger;
  /**
   * Wall clock in ms; shard epochs are `max(previous + 1, now())`, so they keep increasing across
   * balancer restarts.
   * @default Date.now
   */
  now?: () => number;
}

/** One compiled source window. */
export interface CompiledSource {
  readonly name: string;
  readonly schema: Schema;
  /** The window's policy object (its own members are used by unsharded and bounded-load routing). */
  readonly policy: RoutingPolicy;
  /** Rows are placed through the deployment's shard table (sharded, not bounded-load). */
  readonly usesShardTable: boolean;
  /** The hash fields (sharded policies), decoded alone to place rows. */
  readonly keys: KeyLayout | undefined;
  /** Where the window is also fed from JetStream. */
  readonly input: SourceInputBinding | undefined;
}

/** {@link BalancerOptions} with every default applied and checked. */
export interface CompiledBalancerOptions {
  readonly project: string;
  readonly deployment: string;
  readonly shardCount: number;
  readonly sources: ReadonlyMap<string, CompiledSource>;
  /** The policy that builds the shared shard table, or undefined when no source uses one. */
  readonly shardPolicy: "hash" | "consistent-hash" | undefined;
  readonly membership: MembershipSource;
  readonly listen: string;
  readonly balancerId: string;
  readonly maxInFlightEvents: number;
  readonly maxInFlightBytes: number;
  readonly releaseTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly reconnect: BackoffOptions;
  readonly serverCredentials: grpc.ServerCredentials | undefined;
  readonly workerCredentials: grpc.ChannelCredentials | undefined;
  readonly natsUrl: string | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

function invalid(message: string, field: string, window?: string): MeshError {
  return new MeshError("INVALID_ARGUMENT", message, { details: { field, ...(window ? { window } : {}) } });
}

function positive(value: number | undefined, fallback: number, field: string): number {
  const result = value ?? fallback;
  if (!(Number.isFinite(result) && result > 0))
    throw invalid(`${field} must be a positive number, got ${result}`, field);
  return result;
}

function compileSource(source: SourceWindowOptions, shardCount: number): CompiledSource {
  if (typeof source.name !== "string" || source.name === "") throw invalid("a source window needs a name", "sources");
  let schema: Schema;
  try {
    schema = typeof source.schema === "string" ? parseSchemaString(source.schema) : source.schema;
  } catch (error) {
    const cause = MeshError.from(error);
    throw new MeshError("INVALID_ARGUMENT", `source window "${source.name}": ${cause.message}`, {
      details: { ...cause.details, window: source.name },
      cause,
    });
  }
  const routing = source.routing ?? {};
  if (routing.boundedLoad !== undefined && routing.stateless !== true) {
    throw invalid(
      `source window "${source.name}": boundedLoad moves rows off their shard's owner, so it needs stateless: true`,
      "boundedLoad",
      source.name,
    );
  }
  try {
    const policyOptions = {
      shardCount,
      schema,
      ...(routing.policy === undefined ? {} : { policy: routing.policy }),
      ...(routing.hashFields === undefined ? {} : { hashFields: routing.hashFields }),
      ...(routing.boundedLoad === undefined ? {} : { boundedLoad: routing.boundedLoad }),
    };
    const { hashFields } = compileRoutingPolicyOptions(policyOptions);
    const policy = createRoutingPolicy(policyOptions);
    return {
      name: source.name,
      schema,
      policy,
      usesShardTable: policy.sharded && routing.boundedLoad === undefined,
      keys: policy.sharded ? keyLayout(schema, hashFields) : undefined,
      input: compileInput(source),
    };
  } catch (error) {
    const cause = MeshError.from(error);
    throw new MeshError("INVALID_ARGUMENT", `source window "${source.name}": ${cause.message}`, {
      details: { ...cause.details, window: source.name },
      cause,
    });
  }
}

const NATS_NAME = /^[^\s.*>/\\]+$/;

function compileInput(source: SourceWindowOptions): SourceInputBinding | undefined {
  const input = source.input;
  if (input === undefined) return undefined;
  for (const field of ["stream", "durable"] as const) {
    if (typeof input[field] !== "string" || !NATS_NAME.test(input[field])) {
      throw invalid(
        `source window "${source.name}": input.${field} must be a NATS name (no spaces, ".", "*", ">")`,
        field,
        source.name,
      );
    }
  }
  if (input.subject !== undefined && (typeof input.subject !== "string" || !/^[^\s]+$/.test(input.subject))) {
    throw invalid(
      `source window "${source.name}": input.subject must be a subject without spaces`,
      "subject",
      source.name,
    );
  }
  return {
    stream: input.stream,
    durable: input.durable,
    ...(input.subject === undefined ? {} : { subject: input.subject }),
  };
}

/**
 * Applies the defaults of {@link BalancerOptions}. Rejects an empty project, no or duplicate
 * source windows, bad schemas and routing settings (naming the window), and a deployment whose
 * sharded windows disagree on `hash` against `consistent-hash`: the shards of a deployment have
 * one owner table.
 */
export function compileBalancerOptions(options: BalancerOptions): CompiledBalancerOptions {
  const deployment = options.deployment;
  if (typeof deployment?.project !== "string" || deployment.project === "") {
    throw invalid("deployment.project must be a non-empty string", "project");
  }
  const shardCount = deployment.shardCount ?? 4096;
  if (!(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= 65536)) {
    throw invalid(`deployment.shardCount must be an integer from 1 to 65536, got ${shardCount}`, "shardCount");
  }
  if (!Array.isArray(deployment.sources) || deployment.sources.length === 0) {
    throw invalid("deployment.sources needs at least one source window", "sources");
  }
  const sources = new Map<string, CompiledSource>();
  for (const source of deployment.sources) {
    const compiled = compileSource(source, shardCount);
    if (sources.has(compiled.name))
      throw invalid(`source window "${compiled.name}" appears twice`, "sources", compiled.name);
    sources.set(compiled.name, compiled);
  }
  const tableUsers = [...sources.values()].filter((source) => source.usesShardTable);
  const kinds = new Set(tableUsers.map((source) => source.policy.name));
  if (kinds.size > 1) {
    const list = tableUsers.map((source) => `${source.name} (${source.policy.name})`).join(", ");
    throw invalid(`sharded source windows must all use hash or all consistent-hash: ${list}`, "policy");
  }
  const durables = new Map<string, string>();
  for (const source of sources.values()) {
    if (source.input === undefined) continue;
    const durable = `${source.input.stream}/${source.input.durable}`;
    const other = durables.get(durable);
    if (other !== undefined) {
      throw invalid(
        `source windows "${other}" and "${source.name}" read the same durable ${durable}; a durable has one reader`,
        "durable",
        source.name,
      );
    }
    durables.set(durable, source.name);
  }
  if (durables.size > 0 && (typeof options.natsUrl !== "string" || options.natsUrl === "")) {
    throw invalid(
      `source windows ${[...durables.values()].join(", ")} have input bindings, so natsUrl is required`,
      "natsUrl",
    );
  }
  if (options.membership === undefined || typeof options.membership.watch !== "function") {
    throw invalid("membership must be a registry (an object with watch(signal))", "membership");
  }
  return {
    project: deployment.project,
    deployment: deployment.deployment ?? "default",
    shardCount,
    sources,
    shardPolicy: [...kinds][0] as "hash" | "consistent-hash" | undefined,
    membership: options.membership,
    listen: options.listen ?? "127.0.0.1:0",
    balancerId: options.balancerId ?? `balancer-${process.pid}`,
    maxInFlightEvents: positive(options.maxInFlightEvents, 1_000_000, "maxInFlightEvents"),
    maxInFlightBytes: positive(options.maxInFlightBytes, 64 * 1024 * 1024, "maxInFlightBytes"),
    releaseTimeoutMs: positive(options.releaseTimeoutMs, 10_000, "releaseTimeoutMs"),
    drainTimeoutMs: positive(options.drainTimeoutMs, 10_000, "drainTimeoutMs"),
    reconnect: options.reconnect ?? { initialMs: 100, maxMs: 5000 },
    serverCredentials: options.serverCredentials,
    workerCredentials: options.workerCredentials,
    natsUrl: options.natsUrl,
    logger: (options.logger ?? noopLogger).child({ component: "balancer" }),
    now: options.now ?? Date.now,
  };
}
