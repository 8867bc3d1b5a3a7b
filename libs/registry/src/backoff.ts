/** Options of an exponential backoff. */
export interface BackoffOptions {
  /** First delay in milliseconds. @default 200 */
  initialMs?: number;
  /** Largest delay in milliseconds. @default 30000 */
  maxMs?: number;
  /** Growth factor per failure. @default 2 */
  factor?: number;
}

/** Exponential backoff with full jitter on the upper half: delay in [d/2, d]. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  #failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 200;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#failures);
    this.#failures += 1;
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /** Forgets past failures (call after a success). */
  reset(): void {
    this.#failures = 0;
  }
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
