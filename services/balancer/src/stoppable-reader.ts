/** Reads an async iterable one item at a time until a signal aborts. */
export interface StoppableReader<T> {
  /**
   * The next item, or "stopped" once the signal aborted (a read in progress is then abandoned:
   * its outcome no longer matters).
   */
  next(): Promise<IteratorResult<T> | "stopped">;
}

/**
 * A reader of `iterable` that `stop` can interrupt while it waits. Unlike racing each read
 * against one long-lived "stopped" promise, it leaves nothing behind per read: every
 * `Promise.race` would add a reaction to that promise, and each reaction keeps the read's result
 * (a whole batch) alive until the stream ends.
 */
export function createStoppableReader<T>(iterable: AsyncIterable<T>, stop: AbortSignal): StoppableReader<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let interrupt: ((stopped: "stopped") => void) | undefined;
  if (!stop.aborted) stop.addEventListener("abort", () => interrupt?.("stopped"), { once: true });
  return {
    async next() {
      if (stop.aborted) return "stopped";
      const next = iterator.next();
      const result = await new Promise<IteratorResult<T> | "stopped">((resolve, reject) => {
        interrupt = resolve;
        next.then(resolve, reject);
      });
      interrupt = undefined;
      if (result === "stopped") next.catch(() => undefined);
      return result;
    },
  };
}
