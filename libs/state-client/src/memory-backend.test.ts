import { describe, expect, it } from "vitest";
import { CONTRACT_MAX_COMMIT_BYTES, describeStateBackendContract } from "./contract-suite.js";
import { createMemoryBackend, MemoryStateStore } from "./memory-backend.js";
import { createStateBackend } from "./registry.js";

describeStateBackendContract("memory", async () => {
  const store = new MemoryStateStore();
  return {
    create: (scope) => createMemoryBackend({ ...scope, store, maxCommitBytes: CONTRACT_MAX_COMMIT_BYTES }),
    stop: async () => {},
  };
});

describe("memory backend", () => {
  it("shares state between backends of one store and keeps private stores apart", async () => {
    const store = new MemoryStateStore();
    const a = createStateBackend({ kind: "memory", project: "p", deployment: "d", store });
    const b = createStateBackend({ kind: "memory", project: "p", deployment: "d", store });
    const alone = createStateBackend({ kind: "memory", project: "p", deployment: "d" });
    await a.acquire([1], "w", 1);
    await a.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { x: Uint8Array.of(1, 2) } }] });
    const [seen] = await b.load([1]);
    expect([...(seen?.windows.get("x") ?? [])]).toEqual([1, 2]);
    await expect(alone.load([1])).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(store.size).toBe(1);
  });

  it("keeps committed state when the caller later changes its buffers or the loaded copies", async () => {
    const state = createMemoryBackend({ project: "p", deployment: "d" });
    const blob = Uint8Array.of(7, 7);
    await state.acquire([1], "w", 1);
    await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { x: blob } }] });
    blob.fill(0);
    const [first] = await state.load([1]);
    first?.windows.get("x")?.fill(9);
    const [second] = await state.load([1]);
    expect([...(second?.windows.get("x") ?? [])]).toEqual([7, 7]);
  });

  it("rejects a non-positive size limit naming the option", () => {
    expect(() => createMemoryBackend({ project: "p", deployment: "d", maxCommitBytes: 0 })).toThrow(/maxCommitBytes/);
  });

  it("rejects an unknown backend kind naming the known ones", () => {
    expect(() => createStateBackend({ kind: "disk" } as never)).toThrow(/memory, service/);
  });

  it("fails a call whose signal is already aborted with CANCELLED", async () => {
    const state = createMemoryBackend({ project: "p", deployment: "d" });
    await expect(state.acquire([1], "w", 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "CANCELLED",
    });
  });
});
