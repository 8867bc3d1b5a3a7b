import { createMemoryBackend, MemoryStateStore, type StateBackend } from "@espmesh/state-client";
import type { StateStore } from "./redis-store.js";

/**
 * Shard checkpoints in this process's memory, for the embedded mode (`espmesh up` without
 * `--redis`): the same fencing, all-or-nothing commits and monotonic watermarks as the Redis
 * store (it is the state client's memory backend), gone when the process stops.
 */
export function createMemoryStateStore(): StateStore {
  const store = new MemoryStateStore();
  const backends = new Map<string, StateBackend>();
  const backendOf = (scope: { project: string; deployment: string }) => {
    const key = JSON.stringify([scope.project, scope.deployment]);
    let backend = backends.get(key);
    if (!backend) {
      backend = createMemoryBackend({ project: scope.project, deployment: scope.deployment, store });
      backends.set(key, backend);
    }
    return backend;
  };
  return {
    acquire: (scope, shards, owner, epoch) => backendOf(scope).acquire(shards, owner, epoch),
    async commit(scope, commit) {
      await backendOf(scope).commit({
        owner: commit.owner,
        epoch: commit.epoch,
        shards: commit.shards.map((shard) => ({
          shard: shard.shard,
          deleteShard: shard.deleteShard,
          deletedWindows: shard.deletedWindows,
          windows: new Map(shard.windows),
          watermarks: new Map(shard.watermarks),
        })),
      });
    },
    load: (scope, shards) => backendOf(scope).load(shards),
    release: (scope, shards, owner, epoch) => backendOf(scope).release(shards, owner, epoch),
    drop: (scope) => backendOf(scope).dropDeployment(),
  };
}
