import { setTimeout as sleep } from "node:timers/promises";
import { MeshError } from "@espmesh/telemetry";

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /**
   * Give up after this many milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Pause between two checks.
   * @default 20
   */
  intervalMs?: number;
  /** What is being waited for, for the timeout message, e.g. `"worker w1 to own shard 3"`. */
  message?: string;
}

/**
 * Resolves as soon as `condition` returns (or resolves to) true, checking every `intervalMs`.
 * A check that throws counts as "not yet"; when the time is up it rejects with
 * DEADLINE_EXCEEDED naming `message`, with the last thrown error as `cause`.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  let failed = false;
  for (;;) {
    try {
      if (await condition()) return;
      failed = false;
    } catch (error) {
      lastError = error;
      failed = true;
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  const what = options.message ?? "the condition";
  const reason = failed ? `; the last check threw: ${MeshError.from(lastError).message}` : "";
  throw new MeshError("DEADLINE_EXCEEDED", `timed out after ${timeoutMs} ms waiting for ${what}${reason}`, {
    ...(failed ? { cause: lastError } : {}),
  });
}
