/**
 * The StateBackend registry: one factory that picks the implementation by `kind`, like grpc-js
 * picks a load balancer by name.
 */
import { MeshError } from "@espmesh/telemetry";
import { createMemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
import { createServiceBackend, type ServiceBackendOptions } from "./service-backend.js";
import type { StateBackend, StateBackendKind } from "./types.js";

/** Options of {@link createStateBackend}: the options of one implementation, tagged by `kind`. */
export type StateBackendOptions =
  | ({ kind: "memory" } & MemoryBackendOptions)
  | ({ kind: "service" } & ServiceBackendOptions);

const factories: { [K in StateBackendKind]: (options: Extract<StateBackendOptions, { kind: K }>) => StateBackend } = {
  memory: ({ kind: _kind, ...options }) => createMemoryBackend(options),
  service: ({ kind: _kind, ...options }) => createServiceBackend(options),
};

/** The backend kinds {@link createStateBackend} knows. */
export const stateBackendKinds: readonly StateBackendKind[] = Object.keys(factories) as StateBackendKind[];

/**
 * A StateBackend of the given kind: `memory` (in process, for the embedded mode and tests) or
 * `service` (the gRPC client of the state service).
 */
export function createStateBackend(options: StateBackendOptions): StateBackend {
  switch (options.kind) {
    case "memory":
      return factories.memory(options);
    case "service":
      return factories.service(options);
    default:
      throw new MeshError(
        "INVALID_ARGUMENT",
        `unknown state backend kind ${String((options as { kind: unknown }).kind)}; use one of ${stateBackendKinds.join(", ")}`,
        { details: { field: "kind" } },
      );
  }
}
