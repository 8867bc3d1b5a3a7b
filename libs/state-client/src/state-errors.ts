/**
 * The errors every state backend raises, built in one place so the memory backend, the state
 * service and its client word them the same.
 */
import { MeshError } from "@espmesh/telemetry";

/** The operations that check shard ownership. */
export type FencedOperation = "acquire" | "commit" | "release";

/** What is stored about a shard's ownership. */
export interface ShardOwnership {
  readonly epoch: number;
  readonly owner: string;
}

/**
 * Whether `owner` at `epoch` may perform `operation` on a shard whose stored ownership is
 * `stored` (undefined: never acquired nor committed). A newer epoch always wins; at the same
 * epoch only the stored owner may commit, and acquire/release are also allowed on a released
 * shard ("" owner).
 */
export function isAllowed(
  operation: FencedOperation,
  stored: ShardOwnership | undefined,
  owner: string,
  epoch: number,
): boolean {
  if (stored === undefined || epoch > stored.epoch) return true;
  if (epoch < stored.epoch) return false;
  if (stored.owner === owner) return true;
  return operation !== "commit" && stored.owner === "";
}

/** FAILED_PRECONDITION for a fenced call, naming the shard and both epochs. */
export function fencedError(
  operation: FencedOperation,
  scope: { project: string; deployment: string },
  shard: number,
  stored: ShardOwnership,
  owner: string,
  epoch: number,
): MeshError {
  const where = `shard ${shard} of ${scope.project}/${scope.deployment}`;
  let why: string;
  if (stored.epoch > epoch) {
    const holder = stored.owner === "" ? "released" : `held by "${stored.owner}"`;
    why = `${where} is at epoch ${stored.epoch} (${holder}), newer than epoch ${epoch} of "${owner}"`;
  } else if (stored.owner === "") {
    why = `${where} was released at epoch ${stored.epoch}; "${owner}" must acquire it again before committing (given epoch ${epoch})`;
  } else {
    why = `${where} is held by "${stored.owner}" at epoch ${stored.epoch}, the same as the given epoch ${epoch} of "${owner}"`;
  }
  return new MeshError("FAILED_PRECONDITION", `${operation} rejected: ${why}`, {
    details: {
      project: scope.project,
      deployment: scope.deployment,
      shard,
      storedEpoch: stored.epoch,
      storedOwner: stored.owner,
      epoch,
      owner,
    },
  });
}

/** NOT_FOUND for a deployment no shard was ever acquired for (or that was dropped). */
export function deploymentNotFound(scope: { project: string; deployment: string }): MeshError {
  return new MeshError(
    "NOT_FOUND",
    `deployment ${scope.project}/${scope.deployment} is unknown to the state store: acquire a shard of it first`,
    { details: { project: scope.project, deployment: scope.deployment } },
  );
}

/** RESOURCE_EXHAUSTED for a commit over the size limit, naming both sizes. */
export function commitTooLarge(
  scope: { project: string; deployment: string },
  bytes: number,
  limit: number,
): MeshError {
  return new MeshError(
    "RESOURCE_EXHAUSTED",
    `commit of ${bytes} bytes of window state exceeds the limit of ${limit} bytes (${scope.project}/${scope.deployment}); commit fewer shards at a time or raise maxCommitBytes`,
    { details: { project: scope.project, deployment: scope.deployment, bytes, limit } },
  );
}
