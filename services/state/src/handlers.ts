/**
 * The five StateService methods over a {@link StateStore}: validate, size-check, run the
 * script, shape the response. Commit takes the raw request bytes and decodes them with the
 * hand-written CommitRequest decoder (window blobs stay views into the received buffer until
 * they are handed to Redis); the others take messages decoded by protobuf-es.
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  AcquireRequest,
  AcquireResponseSchema,
  CommitResponseSchema,
  DropDeploymentRequest,
  LoadRequest,
  LoadResponseSchema,
  ReleaseRequest,
} from "@espmesh/proto";
import {
  checkEpoch,
  checkOwner,
  checkpointToProto,
  checkScopeName,
  checkShards,
  commitTooLarge,
  decodeCommitRequest,
  safeNumber,
  validateCommit,
} from "@espmesh/state-client/internal";
import { getMeter, type Logger, MeshError } from "@espmesh/telemetry";
import type { Scope, StateStore } from "./redis-store.js";

const meter = getMeter("@espmesh/state");
const callDuration = meter.createHistogram("espmesh.state.call.duration", {
  description: "Duration of state service calls",
  unit: "ms",
});
const committedBytes = meter.createCounter("espmesh.state.commit.bytes", {
  description: "Bytes of window state committed",
  unit: "By",
});

/** The StateService methods, by local name, as plain async functions. */
export interface StateHandlers {
  acquire(request: AcquireRequest): Promise<MessageInitShape<typeof AcquireResponseSchema>>;
  commit(request: Buffer): Promise<MessageInitShape<typeof CommitResponseSchema>>;
  load(request: LoadRequest): Promise<MessageInitShape<typeof LoadResponseSchema>>;
  release(request: ReleaseRequest): Promise<Record<string, never>>;
  dropDeployment(request: DropDeploymentRequest): Promise<Record<string, never>>;
}

function scopeOf(request: { project: string; deployment: string }): Scope {
  return {
    project: checkScopeName("project", request.project),
    deployment: checkScopeName("deployment", request.deployment),
  };
}

function timed<R>(method: string, handler: () => Promise<R>): Promise<R> {
  const started = performance.now();
  return handler().then(
    (result) => {
      callDuration.record(performance.now() - started, { method, code: "OK" });
      return result;
    },
    (error: unknown) => {
      callDuration.record(performance.now() - started, { method, code: MeshError.from(error).code });
      throw error;
    },
  );
}

/** The handlers of a state service storing in `store`, limiting commits to `maxCommitBytes`. */
export function createStateHandlers(store: StateStore, maxCommitBytes: number, logger: Logger): StateHandlers {
  return {
    acquire: (request) =>
      timed("Acquire", async () => {
        const scope = scopeOf(request);
        const shards = checkShards(request.shards);
        const owner = checkOwner(request.owner);
        const epoch = checkEpoch(safeNumber(request.epoch, "epoch"));
        const checkpoints = await store.acquire(scope, shards, owner, epoch);
        return { checkpoints: checkpoints.map(checkpointToProto) };
      }),
    commit: (body) =>
      timed("Commit", async () => {
        const decoded = decodeCommitRequest(body);
        const scope = scopeOf(decoded);
        const commit = validateCommit(decoded.commit);
        if (commit.bytes > maxCommitBytes) throw commitTooLarge(scope, commit.bytes, maxCommitBytes);
        await store.commit(scope, commit);
        committedBytes.add(commit.bytes);
        return { shards: commit.shards.length, bytes: BigInt(commit.bytes) };
      }),
    load: (request) =>
      timed("Load", async () => {
        const scope = scopeOf(request);
        const checkpoints = await store.load(scope, checkShards(request.shards));
        return { checkpoints: checkpoints.map(checkpointToProto) };
      }),
    release: (request) =>
      timed("Release", async () => {
        const scope = scopeOf(request);
        const shards = checkShards(request.shards);
        const owner = checkOwner(request.owner);
        const epoch = checkEpoch(safeNumber(request.epoch, "epoch"));
        await store.release(scope, shards, owner, epoch);
        return {};
      }),
    dropDeployment: (request) =>
      timed("DropDeployment", async () => {
        const scope = scopeOf(request);
        await store.drop(scope);
        logger.info({ project: scope.project, deployment: scope.deployment }, "deployment state dropped");
        return {};
      }),
  };
}
