/**
 * Retrying calls that failed with UNAVAILABLE, with capped exponential backoff and jitter, within
 * a time budget, cancellable by an AbortSignal.
 */
import { MeshError } from "@espmesh/telemetry";

/** How calls are retried. */
export interface RetryPolicy {
  /** First backoff, in milliseconds. */
  readonly initialBackoffMs: number;
  /** Backoff cap, in milliseconds. */
  readonly maxBackoffMs: number;
  /** Total time after the first attempt during which retries start, in milliseconds. */
  readonly retryTimeoutMs: number;
}

/** Whether an error is worth retrying: the store or the service could not be reached. */
export function isRetryable(error: unknown): boolean {
  return error instanceof MeshError && error.code === "UNAVAILABLE";
}

/** Resolves after `ms`, or rejects with CANCELLED when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MeshError("CANCELLED", "the state call was aborted"));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new MeshError("CANCELLED", "the state call was aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The backoff before retry number `attempt` (1-based): capped exponential, half-jittered. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/**
 * Runs `call` until it succeeds, fails with a non-retryable error, or the retry budget is spent
 * (then the last error is thrown). `call` receives the attempt number, starting at 1.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  call: (attempt: number) => Promise<T>,
  hooks: {
    signal?: AbortSignal | undefined;
    onRetry?: (error: MeshError, attempt: number, delayMs: number) => void;
  } = {},
): Promise<T> {
  const deadline = Date.now() + policy.retryTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (!isRetryable(error) || hooks.signal?.aborted) throw error;
      const delay = backoffMs(policy, attempt);
      if (Date.now() + delay > deadline) throw error;
      hooks.onRetry?.(error as MeshError, attempt, delay);
      await sleep(delay, hooks.signal);
    }
  }
}
