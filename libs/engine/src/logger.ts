/**
 * The logger the engine writes to: pino-compatible (`logger.warn(object, message)`), injected by
 * the host. The default writes nothing.
 */
export interface EngineLogger {
  /** Diagnostic detail. */
  debug(object: Record<string, unknown>, message: string): void;
  /** Something worth knowing. */
  info(object: Record<string, unknown>, message: string): void;
  /** Something went wrong with one input (a bad event), the engine keeps going. */
  warn(object: Record<string, unknown>, message: string): void;
  /** Something went wrong that the host should look at. */
  error(object: Record<string, unknown>, message: string): void;
}

const noop = (): void => {};

/** A logger that writes nothing: the default of every engine. */
export const noopLogger: EngineLogger = { debug: noop, info: noop, warn: noop, error: noop };
