import { describe, expect, it } from "vitest";
import { createRegistry } from "./create-registry.js";
import { createStaticRegistry } from "./static-registry.js";
import { nextMatching } from "./testing/wait.js";

describe("static registry", () => {
  it("yields its fixed members as healthy, sorted by id", async () => {
    const registry = createRegistry({
      kind: "static",
      members: [
        { id: "b", address: "127.0.0.1:2" },
        { id: "a", address: "127.0.0.1:1", ready: false },
      ],
    });
    const first = await nextMatching(registry.watch()[Symbol.asyncIterator](), () => true);
    expect(first).toEqual({
      version: 1,
      members: [
        { id: "a", address: "127.0.0.1:1", ready: false, serving: true, terminating: false },
        { id: "b", address: "127.0.0.1:2", ready: true, serving: true, terminating: false },
      ],
    });
    await registry.close();
  });

  it("bumps the version only when set() changes the membership, and gives a slow reader the newest", async () => {
    const registry = createStaticRegistry({ members: [{ id: "a", address: "127.0.0.1:1" }] });
    const snapshots = registry.watch()[Symbol.asyncIterator]();
    await snapshots.next();
    registry.set([{ id: "a", address: "127.0.0.1:1" }]);
    registry.set([
      { id: "a", address: "127.0.0.1:1" },
      { id: "b", address: "127.0.0.1:2" },
    ]);
    registry.set([{ id: "c", address: "127.0.0.1:3" }]);
    const next = await snapshots.next();
    expect(next.value).toMatchObject({ version: 3, members: [{ id: "c" }] });
    await registry.close();
    expect(await snapshots.next()).toEqual({ done: true, value: undefined });
  });

  it("ends a watch when its signal aborts", async () => {
    const registry = createStaticRegistry();
    const controller = new AbortController();
    const snapshots = registry.watch(controller.signal)[Symbol.asyncIterator]();
    expect((await snapshots.next()).value).toEqual({ version: 1, members: [] });
    const pending = snapshots.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
