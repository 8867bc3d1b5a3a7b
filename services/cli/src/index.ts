/**
 * @packageDocumentation
 * The `espmesh` command line. Programmatic entry points for tests and embedding.
 */
export { type CliIo, createProgram, main } from "./main.js";
export { type RunProjectOptions, runProject } from "./run/run-project.js";
