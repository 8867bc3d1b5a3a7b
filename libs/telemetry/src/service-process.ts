import { MeshError } from "./errors.js";
import type { Logger } from "./logger.js";

/**
 * What every service process (balancer, worker, state service, gateway, control plane) does at
 * its edges: read its environment with errors that name the variable, stop once on SIGTERM or
 * SIGINT and exit with the outcome, and report a failure to start.
 */

/** A non-empty environment variable, or undefined. */
export function envText(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * An integer environment variable, or undefined when unset or empty.
 * @throws MeshError INVALID_ARGUMENT naming the variable when it is not an integer.
 */
export function envInteger(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = envText(name, env);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new MeshError("INVALID_ARGUMENT", `${name} must be an integer, got ${value}`, { details: { field: name } });
  }
  return parsed;
}

/**
 * On the first SIGTERM or SIGINT, runs `stop` (drain, close, flush telemetry), then exits 0, or
 * 1 after logging why the stop failed. Later signals are ignored while it stops.
 */
export function stopOnSignals(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: MeshError.from(error) }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/**
 * Runs a service's `main`; if it fails to start, logs why, says it on stderr too (for whoever
 * started the process by hand) and exits 1.
 */
export function runService(name: string, logger: Logger, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const failure = MeshError.from(error);
    logger.error({ err: failure }, `${name} failed to start`);
    process.stderr.write(`espmesh ${name} failed to start: ${failure.message}\n`);
    process.exit(1);
  });
}
