import { describe, expect, it } from "vitest";
import { createChannel } from "./channel.js";

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("channel", () => {
  it("delivers pushed items in order, then ends", async () => {
    const channel = createChannel<number>();
    for (let i = 0; i < 3000; i++) channel.push(i);
    channel.end();
    expect(await drain(channel)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it("throws the end error after the queued items", async () => {
    const channel = createChannel<number>();
    channel.push(1);
    channel.end(new Error("boom"));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const item of channel) seen.push(item);
      })(),
    ).rejects.toThrow("boom");
    expect(seen).toEqual([1]);
  });

  it("makes write wait while the queue is at its high water mark", async () => {
    const channel = createChannel<number>({ highWater: 2 });
    await channel.write(1);
    let released = false;
    const blocked = channel.write(2).then(() => {
      released = true;
    });
    await Promise.resolve();
    expect(released).toBe(false);
    const iterator = channel[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(1);
    await blocked;
    expect(released).toBe(true);
    channel.end();
    expect((await iterator.next()).value).toBe(2);
    expect((await iterator.next()).done).toBe(true);
  });
});
