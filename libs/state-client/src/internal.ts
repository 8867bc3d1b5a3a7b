/**
 * @packageDocumentation
 * Internals shared with the state service (`@espmesh/state`): validation, wire conversions,
 * the wording of errors and the fencing rule. Not a stable API.
 */
export * from "./commit-decoder.js";
export * from "./commit-encoder.js";
export * from "./normalize.js";
export * from "./proto-convert.js";
export * from "./retry.js";
export * from "./state-errors.js";
