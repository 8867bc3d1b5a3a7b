import type { FastifyInstance } from "fastify";

/** Counts HTTP requests being answered (server-sent event streams included), so a drain can wait for them. */
export interface InFlight {
  /** Requests being answered now. */
  readonly count: number;
  /** Resolves true once no request is being answered, or false after `timeoutMs`. */
  settled(timeoutMs: number): Promise<boolean>;
}

/**
 * Tracks every request of `app` from `onRequest` until its response closes. WebSocket upgrades
 * are not counted: their sockets are closed by the WebSocket server.
 */
export function trackInFlight(app: FastifyInstance): InFlight {
  let count = 0;
  let waiters: (() => void)[] = [];
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.upgrade !== undefined) return;
    count += 1;
    reply.raw.once("close", () => {
      count -= 1;
      if (count > 0) return;
      const current = waiters;
      waiters = [];
      for (const wake of current) wake();
    });
  });
  return {
    get count() {
      return count;
    },
    async settled(timeoutMs) {
      if (count === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        new Promise<true>((resolve) => waiters.push(() => resolve(true))),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      return outcome;
    },
  };
}
