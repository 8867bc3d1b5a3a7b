import { pino } from "pino";
import { MeshError } from "./errors.js";

/**
 * One logging method: a message, or structured fields and an optional message. Errors go under
 * `err` (`log.error({ err }, "commit failed")`) so their code, details and stack are kept.
 */
export interface LogFn {
  (message: string): void;
  (fields: object, message?: string): void;
}

/**
 * The logger every espmesh library accepts. A pino logger satisfies it, and so does
 * {@link noopLogger}, the default of libraries.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line, e.g. `{ component: "routing" }` or `{ shard }`. */
  child(bindings: Record<string, unknown>): Logger;
}

function ignore(): void {}

/** A logger that drops everything; the default of every library's `logger` option. */
export const noopLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => noopLogger,
};

/** Log levels, most verbose first; `silent` logs nothing. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

const logLevels: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Where log lines go: anything with a `write(line)` method. */
export interface LogDestination {
  write(line: string): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The component every line is tagged with (`"component": "balancer"`). */
  component: string;
  /**
   * Lowest level written.
   * @default "info"
   */
  level?: LogLevel;
  /**
   * Where the JSON lines go.
   * @default standard output
   */
  destination?: LogDestination;
  /** Extra fields on every line, e.g. `{ workerId }`. */
  bindings?: Record<string, unknown>;
}

/** {@link LoggerOptions} with every default applied. */
export interface CompiledLoggerOptions {
  component: string;
  level: LogLevel;
  destination: LogDestination | undefined;
  bindings: Record<string, unknown>;
}

/** Applies the defaults of {@link LoggerOptions} and rejects an empty component or unknown level. */
export function compileLoggerOptions(options: LoggerOptions): CompiledLoggerOptions {
  if (typeof options.component !== "string" || options.component.trim() === "") {
    throw new MeshError("INVALID_ARGUMENT", "logger option `component` must be a non-empty string", {
      details: { field: "component" },
    });
  }
  const level = options.level ?? "info";
  if (!logLevels.includes(level)) {
    throw new MeshError(
      "INVALID_ARGUMENT",
      `logger option \`level\` is ${String(level)}; use one of ${logLevels.join(", ")}`,
      {
        details: { field: "level" },
      },
    );
  }
  return { component: options.component, level, destination: options.destination, bindings: options.bindings ?? {} };
}

/**
 * A pino logger writing one JSON line per message, with the level as a label, an ISO time and
 * `component` on every line. Services create one at start and hand it (or a child) to libraries.
 */
export function createLogger(options: LoggerOptions): Logger {
  const compiled = compileLoggerOptions(options);
  const pinoOptions = {
    level: compiled.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const root = compiled.destination ? pino(pinoOptions, compiled.destination) : pino(pinoOptions);
  return root.child({ ...compiled.bindings, component: compiled.component });
}
