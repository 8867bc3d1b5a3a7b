/** Test helpers: bounded waits over async iterators and conditions. */

/** Reads `iterator` until a value satisfies `predicate`; fails after `timeoutMs`. */
export async function nextMatching<T>(
  iterator: AsyncIterator<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`no matching value within ${timeoutMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), remaining);
    });
    const result = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (result === "timeout") throw new Error(`no matching value within ${timeoutMs} ms`);
    if (result.done === true) throw new Error("the stream ended before a matching value");
    if (predicate(result.value)) return result.value;
  }
}

/** Polls `condition` every `everyMs` until it holds; fails after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
