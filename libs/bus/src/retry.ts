import { setTimeout as sleep } from "node:timers/promises";

/** Delays between attempts: doubling from `minMs` up to `maxMs`, with up to 20% jitter. */
export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 + Math.random() * 0.2));
}

/** Waits `ms`, or resolves false at once when `signal` aborts (true when the time passed). */
export async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return false;
  try {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") return false;
    throw error;
  }
}
