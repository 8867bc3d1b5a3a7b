import type { Batch } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";

/** Options of {@link createOutputHub}. */
export interface OutputHubOptions {
  /**
   * Batches a subscriber may fall behind before it is disconnected with RESOURCE_EXHAUSTED
   * (processing never waits for a subscriber, and memory stays bounded).
   * @default 1024
   */
  maxQueuedBatches?: number;
}

/** Fans a worker's output batches out to the subscribers of each window. */
export interface OutputHub {
  /** Output events of `window` from now on, until `signal` aborts or the hub closes. */
  subscribe(window: string, signal?: AbortSignal): AsyncIterable<Batch>;
  /** Delivers a window's output batch to its subscribers; never blocks. */
  publish(window: string, batch: Batch): void;
  /** Whether anybody listens to `window` (lets callers skip work). */
  hasSubscribers(window: string): boolean;
  /** Ends every subscription. */
  close(): void;
}

interface Subscriber {
  queue: Batch[];
  wake: (() => void) | undefined;
  failure: MeshError | undefined;
  ended: boolean;
}

/** Creates an {@link OutputHub}. */
export function createOutputHub(options: OutputHubOptions = {}): OutputHub {
  const maxQueued = options.maxQueuedBatches ?? 1024;
  const byWindow = new Map<string, Set<Subscriber>>();

  const end = (subscriber: Subscriber, failure?: MeshError) => {
    subscriber.ended = true;
    subscriber.failure ??= failure;
    subscriber.wake?.();
  };

  return {
    hasSubscribers: (window) => (byWindow.get(window)?.size ?? 0) > 0,
    publish(window, batch) {
      const subscribers = byWindow.get(window);
      if (!subscribers || batch.length === 0) return;
      for (const subscriber of subscribers) {
        if (subscriber.queue.length >= maxQueued) {
          subscribers.delete(subscriber);
          end(
            subscriber,
            new MeshError(
              "RESOURCE_EXHAUSTED",
              `subscriber of window "${window}" fell ${maxQueued} batches behind and was disconnected`,
              { details: { window } },
            ),
          );
          continue;
        }
        subscriber.queue.push(batch);
        subscriber.wake?.();
      }
    },
    async *subscribe(window, signal) {
      const subscriber: Subscriber = { queue: [], wake: undefined, failure: undefined, ended: false };
      let subscribers = byWindow.get(window);
      if (!subscribers) {
        subscribers = new Set();
        byWindow.set(window, subscribers);
      }
      subscribers.add(subscriber);
      const onAbort = () => end(subscriber);
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        while (true) {
          const next = subscriber.queue.shift();
          if (next) {
            yield next;
            continue;
          }
          if (subscriber.ended) break;
          await new Promise<void>((resolve) => {
            subscriber.wake = resolve;
          });
          subscriber.wake = undefined;
        }
        if (subscriber.failure) throw subscriber.failure;
      } finally {
        signal?.removeEventListener("abort", onAbort);
        byWindow.get(window)?.delete(subscriber);
      }
    },
    close() {
      for (const subscribers of byWindow.values()) for (const subscriber of subscribers) end(subscriber);
      byWindow.clear();
    },
  };
}
