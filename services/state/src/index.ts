/**
 * @packageDocumentation
 * The state service: shard checkpoints in Redis behind the gRPC StateService, fenced by owner
 * epochs. `createStateService(options)` returns an object with `start()`/`stop()`; `main.ts`
 * runs it as a process. Key layout and Redis requirements: this package's README.
 */
export { DEFAULT_KEY_PREFIX, deploymentKeys } from "./keys.js";
export {
  type CompiledStateServiceOptions,
  compileStateServiceOptions,
  type StateServiceOptions,
  stateRedisOptions,
} from "./options.js";
export { createStateService, type StateService, type StateServiceStatus } from "./state-service.js";
