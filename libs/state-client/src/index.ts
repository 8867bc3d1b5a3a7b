/**
 * @packageDocumentation
 * Shard checkpoints for workers: the {@link StateBackend} interface, its `memory` and `service`
 * implementations, and {@link createStateBackend} to pick one by kind.
 *
 * ```ts
 * const state = createStateBackend({ kind: "service", address: "state:7400", project: "trades", deployment: "prod" });
 * const [checkpoint] = await state.acquire([17], "worker-a", 3);
 * await state.commit({ owner: "worker-a", epoch: 3, shards: [{ shard: 17, windows: { totals: bytes }, watermarks: { gw1: 42 } }] });
 * ```
 */
export {
  type CompiledMemoryBackendOptions,
  compileMemoryBackendOptions,
  createMemoryBackend,
  type MemoryBackendOptions,
  MemoryStateStore,
} from "./memory-backend.js";
export { DEFAULT_MAX_COMMIT_BYTES } from "./normalize.js";
export { createStateBackend, type StateBackendOptions, stateBackendKinds } from "./registry.js";
export {
  type CompiledServiceBackendOptions,
  compileServiceBackendOptions,
  createServiceBackend,
  type ServiceBackendOptions,
} from "./service-backend.js";
export type {
  CommitRequest,
  CommitResult,
  MapLike,
  ShardCheckpoint,
  ShardCommit,
  StateBackend,
  StateBackendKind,
  StateCallOptions,
} from "./types.js";
