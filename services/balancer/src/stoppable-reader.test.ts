import { describe, expect, it } from "vitest";
import { createChannel } from "./channel.js";
import { createStoppableReader } from "./stoppable-reader.js";

describe("stoppable reader", () => {
  it("reads items in order, then the end", async () => {
    const channel = createChannel<number>();
    channel.push(1);
    channel.push(2);
    channel.end();
    const reader = createStoppableReader(channel, new AbortController().signal);
    expect(await reader.next()).toEqual({ value: 1, done: false });
    expect(await reader.next()).toEqual({ value: 2, done: false });
    expect(await reader.next()).toEqual({ value: undefined, done: true });
  });

  it("answers 'stopped' to a read waiting when the signal aborts, and to every read after", async () => {
    const channel = createChannel<number>();
    const stop = new AbortController();
    const reader = createStoppableReader(channel, stop.signal);
    channel.push(1);
    expect(await reader.next()).toEqual({ value: 1, done: false });
    const waiting = reader.next();
    stop.abort();
    expect(await waiting).toBe("stopped");
    channel.push(2);
    expect(await reader.next()).toBe("stopped");
  });
});
