/**
 * A push-driven async queue: producers `push`, one consumer iterates. Used where several sources
 * (the request loop, the checkpoint timer) write to one outgoing gRPC stream.
 */
export interface Channel<T> extends AsyncIterable<T> {
  push(item: T): void;
  /** Ends the stream after the queued items; with an error, the consumer throws it. */
  end(error?: unknown): void;
  readonly ended: boolean;
}

/** Creates an unbounded {@link Channel}; producers here are bounded by the balancer's in-flight limit. */
export function createChannel<T>(): Channel<T> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;
  return {
    get ended() {
      return ended;
    },
    push(item) {
      if (ended) return;
      queue.push(item);
      wake?.();
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) failure = { error };
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (failure) throw failure.error;
    },
  };
}
