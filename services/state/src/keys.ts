/**
 * The Redis key layout of the state service (documented in this package's README). Every key of
 * one deployment carries the same hash tag `{project/deployment}`, so a deployment lives in one
 * Redis Cluster slot and the multi-shard Lua scripts never cross slots.
 *
 * - `<prefix>{<project>/<deployment>}:deployment`: exists while the deployment is known;
 * - `<prefix>{<project>/<deployment>}:owners`: hash, shard number → `<epoch>:<owner>`;
 * - `<prefix>{<project>/<deployment>}:shard:<n>`: hash of shard n's state, `w:<window>` → blob
 *   and `m:<sourceId>` → highest seq applied.
 *
 * Project and deployment names are percent-encoded (`encodeURIComponent`), so `/`, `{`, `}`, `:`
 * and `%` in them cannot run into the separators.
 */
import { MeshError } from "@espmesh/telemetry";

/** Default prefix of every key. */
export const DEFAULT_KEY_PREFIX = "espmesh:state:";

/** Field prefix of window blobs in a shard hash. */
export const WINDOW_FIELD = "w:";
/** Field prefix of watermarks in a shard hash. */
export const WATERMARK_FIELD = "m:";

/** The keys of one deployment. */
export interface DeploymentKeys {
  /** Exists while the deployment is known (set by its first acquire). */
  readonly marker: string;
  /** Hash of shard ownership: shard → `epoch:owner`. */
  readonly owners: string;
  /** Prefix of shard hashes: `${shardPrefix}${shard}`. */
  readonly shardPrefix: string;
}

/** Checks a key prefix: no hash-tag braces (they would change the slot). */
export function checkKeyPrefix(prefix: string): string {
  if (prefix.includes("{") || prefix.includes("}")) {
    throw new MeshError("INVALID_ARGUMENT", `keyPrefix must not contain { or }, got ${JSON.stringify(prefix)}`, {
      details: { field: "keyPrefix" },
    });
  }
  return prefix;
}

/** The keys of `project`/`deployment` under `prefix`. */
export function deploymentKeys(prefix: string, project: string, deployment: string): DeploymentKeys {
  const tag = `${prefix}{${encodeURIComponent(project)}/${encodeURIComponent(deployment)}}`;
  return { marker: `${tag}:deployment`, owners: `${tag}:owners`, shardPrefix: `${tag}:shard:` };
}

/** The KEYS of a script over `shards`: the marker, the owners hash, then each shard's hash. */
export function scriptKeys(keys: DeploymentKeys, shards: readonly number[]): string[] {
  const out = new Array<string>(2 + shards.length);
  out[0] = keys.marker;
  out[1] = keys.owners;
  for (let i = 0; i < shards.length; i++) out[i + 2] = `${keys.shardPrefix}${shards[i]}`;
  return out;
}
