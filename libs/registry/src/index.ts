/**
 * @packageDocumentation
 * Worker membership for espmesh: one {@link Registry} interface (a stream of membership
 * snapshots) with a Kubernetes implementation (EndpointSlices through a self-healing informer;
 * its classes are in `@espmesh/registry/kubernetes`, loaded only when used), a local one (a
 * lease-based RegistryService over gRPC, with {@link registerWorker} for workers) and a static
 * one (tests, benchmarks). Pick one with {@link createRegistry}.
 */
export * from "./backoff.js";
export * from "./create-registry.js";
export type { KubernetesRegistryOptions } from "./kubernetes-registry.js";
export * from "./lease-table.js";
export * from "./local-registry.js";
export * from "./local-registry-server.js";
export * from "./register-worker.js";
export * from "./snapshot-hub.js";
export * from "./static-registry.js";
export * from "./types.js";
