/**
 * @packageDocumentation
 * Cross-cutting pieces every espmesh package uses: {@link MeshError}, loggers, metrics and
 * tracing.
 */
export * from "./errors.js";
