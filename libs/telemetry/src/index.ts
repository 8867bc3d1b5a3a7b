/**
 * @packageDocumentation
 * Cross-cutting pieces every espmesh package uses: {@link MeshError}; the {@link Logger} libraries
 * accept ({@link noopLogger} by default) and the pino factory services use ({@link createLogger});
 * metrics through the OpenTelemetry API ({@link getMeter}) with the SDK and the Prometheus
 * endpoint started by services ({@link startTelemetry}); W3C trace context helpers.
 */
export * from "./context-manager.js";
export * from "./errors.js";
export * from "./logger.js";
export { getMeter } from "./meter.js";
export * from "./prometheus.js";
export * from "./service-process.js";
export * from "./telemetry.js";
export * from "./trace-context.js";
