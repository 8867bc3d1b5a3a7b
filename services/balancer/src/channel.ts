/**
 * A push-driven async queue with one consumer: the balancer's outgoing gRPC streams (requests to
 * a worker, acks to a publisher, merged subscription output) are fed from callbacks through it.
 */
export interface Channel<T> extends AsyncIterable<T> {
  /** Queues an item (dropped once the channel ended). */
  push(item: T): void;
  /**
   * Queues an item and resolves when the queue is back under `highWater` (or the channel
   * ended): the producer's way to follow a slow consumer.
   */
  write(item: T): Promise<void>;
  /** Ends the stream after the queued items; with an error, the consumer throws it after them. */
  end(error?: unknown): void;
  readonly ended: boolean;
  /** Items queued and not yet taken. */
  readonly size: number;
}

/** Options of {@link createChannel}. */
export interface ChannelOptions {
  /**
   * Queue length at which `write` starts to wait.
   * @default 64
   */
  highWater?: number;
}

/** Creates a {@link Channel}; `push` never waits, `write` waits for room. */
export function createChannel<T>(options: ChannelOptions = {}): Channel<T> {
  const highWater = options.highWater ?? 64;
  let items: T[] = [];
  let head = 0;
  let wakeConsumer: (() => void) | undefined;
  let producers: (() => void)[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;

  const size = () => items.length - head;
  const wakeProducers = () => {
    if (producers.length === 0) return;
    const waiting = producers;
    producers = [];
    for (const wake of waiting) wake();
  };

  return {
    get ended() {
      return ended;
    },
    get size() {
      return size();
    },
    push(item) {
      if (ended) return;
      items.push(item);
      const wake = wakeConsumer;
      wakeConsumer = undefined;
      wake?.();
    },
    write(item) {
      this.push(item);
      if (ended || size() < highWater) return Promise.resolve();
      return new Promise<void>((resolve) => producers.push(resolve));
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) failure = { error };
      const wake = wakeConsumer;
      wakeConsumer = undefined;
      wake?.();
      wakeProducers();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          if (head < items.length) {
            const item = items[head] as T;
            items[head] = undefined as T;
            head++;
            if (head >= 1024 && head * 2 >= items.length) {
              items = items.slice(head);
              head = 0;
            }
            if (size() < highWater) wakeProducers();
            yield item;
            continue;
          }
          if (ended) break;
          await new Promise<void>((resolve) => {
            wakeConsumer = resolve;
          });
        }
        if (failure !== undefined) throw failure.error;
      } finally {
        ended = true;
        items = [];
        head = 0;
        wakeProducers();
      }
    },
  };
}
