import type { Schema } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import { createConsistentHashPolicy } from "./consistent-hash.js";
import { createHashPolicy } from "./hash.js";
import { createMulticastPolicy } from "./multicast.js";
import { checkShardCount } from "./rendezvous.js";
import { createRoundRobinPolicy } from "./round-robin.js";
import { ROUTING_POLICY_NAMES, type RoutingPolicy, type RoutingPolicyName } from "./types.js";

/** Options of {@link createRoutingPolicy}. */
export interface RoutingPolicyOptions {
  /**
   * The policy.
   * @default "consistent-hash"
   */
  policy?: RoutingPolicyName;
  /**
   * The fixed shard count S of the deployment (1 … 65536).
   * @default 4096
   */
  shardCount?: number;
  /** The source window's schema: sharded policies find their hash fields in it. */
  schema?: Schema;
  /**
   * Names of the fields whose key hash places a row (`hash`, `consistent-hash` only).
   * @default the schema's key fields
   */
  hashFields?: readonly string[];
  /**
   * Bounded load for stateless sources (`consistent-hash` only): the factor c ≥ 1 over the mean
   * load above which a member's rows spill to the shard's next preferred member.
   * @default undefined (off)
   */
  boundedLoad?: number;
  /**
   * The initial member ids.
   * @default none
   */
  members?: Iterable<string>;
}

/** {@link RoutingPolicyOptions} with every default applied and checked. */
export interface CompiledRoutingPolicyOptions {
  policy: RoutingPolicyName;
  shardCount: number;
  /** Field indexes into the schema (empty for unsharded policies). */
  hashFields: number[];
  boundedLoad: number | undefined;
  members: string[];
}

function invalid(message: string, field: string): MeshError {
  return new MeshError("INVALID_ARGUMENT", message, { details: { field } });
}

/**
 * Applies the defaults of {@link RoutingPolicyOptions}; rejects an unknown policy, a bad shard
 * count, unknown or missing hash fields, and options that do not fit the policy.
 */
export function compileRoutingPolicyOptions(options: RoutingPolicyOptions = {}): CompiledRoutingPolicyOptions {
  const policy = options.policy ?? "consistent-hash";
  if (!ROUTING_POLICY_NAMES.includes(policy)) {
    throw invalid(
      `unknown routing policy ${JSON.stringify(policy)}; use one of ${ROUTING_POLICY_NAMES.join(", ")}`,
      "policy",
    );
  }
  const shardCount = checkShardCount(options.shardCount ?? 4096);
  const sharded = policy === "hash" || policy === "consistent-hash";
  let hashFields: number[] = [];
  if (sharded) {
    const schema = options.schema;
    if (schema === undefined) throw invalid(`the ${policy} policy needs the source window's schema`, "schema");
    if (options.hashFields === undefined) {
      hashFields = [...schema.keyIndexes];
      if (hashFields.length === 0) {
        throw invalid(`the ${policy} policy needs hashFields: the schema has no key fields`, "hashFields");
      }
    } else {
      if (options.hashFields.length === 0) throw invalid("hashFields is empty", "hashFields");
      hashFields = options.hashFields.map((name) => {
        const index = schema.indexOf(name);
        if (index < 0) throw invalid(`hash field ${JSON.stringify(name)} is not a field of the schema`, "hashFields");
        return index;
      });
    }
  } else if (options.hashFields !== undefined) {
    throw invalid(`hashFields apply to hash and consistent-hash only, not ${policy}`, "hashFields");
  }
  const boundedLoad = options.boundedLoad;
  if (boundedLoad !== undefined) {
    if (policy !== "consistent-hash") {
      throw invalid(`boundedLoad applies to consistent-hash only, not ${policy}`, "boundedLoad");
    }
    if (!(Number.isFinite(boundedLoad) && boundedLoad >= 1)) {
      throw invalid(`boundedLoad must be a number ≥ 1, got ${boundedLoad}`, "boundedLoad");
    }
  }
  return { policy, shardCount, hashFields, boundedLoad, members: [...(options.members ?? [])] };
}

/**
 * The routing policy a source window's settings name: `round-robin`, `multicast`, `hash` or
 * `consistent-hash` (the default), with its initial members set.
 */
export function createRoutingPolicy(options: RoutingPolicyOptions = {}): RoutingPolicy {
  const compiled = compileRoutingPolicyOptions(options);
  const { shardCount, hashFields } = compiled;
  let policy: RoutingPolicy;
  switch (compiled.policy) {
    case "round-robin":
      policy = createRoundRobinPolicy(shardCount);
      break;
    case "multicast":
      policy = createMulticastPolicy(shardCount);
      break;
    case "hash":
      policy = createHashPolicy({ shardCount, hashFields });
      break;
    case "consistent-hash":
      policy = createConsistentHashPolicy({ shardCount, hashFields, boundedLoad: compiled.boundedLoad });
      break;
  }
  policy.setMembers(compiled.members);
  return policy;
}
