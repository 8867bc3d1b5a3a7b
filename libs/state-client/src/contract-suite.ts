/**
 * The behaviour every StateBackend must show, as one vitest suite that runs against each
 * implementation: `memory` in this package, `service` (over real Redis) in `@espmesh/state`.
 */
import { MeshError } from "@espmesh/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StateBackend } from "./types.js";

/** The commit size limit a backend under contract must be configured with, in bytes. */
export const CONTRACT_MAX_COMMIT_BYTES = 64 * 1024;

/** Creates backends for the contract suite. */
export interface ContractHarness {
  /** A backend of the implementation under test, limited to {@link CONTRACT_MAX_COMMIT_BYTES}. */
  create(scope: { project: string; deployment: string }): StateBackend;
  /** Stops whatever the harness started. */
  stop(): Promise<void>;
}

/** Asserts that `promise` rejects with a MeshError of `code` whose message contains `parts`. */
export async function expectMeshError(promise: Promise<unknown>, code: string, ...parts: string[]): Promise<MeshError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MeshError);
  const mesh = error as MeshError;
  expect(mesh.code).toBe(code);
  for (const part of parts) expect(mesh.message).toContain(part);
  return mesh;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (blob: Uint8Array | undefined) => (blob === undefined ? undefined : new TextDecoder().decode(blob));

/** Registers the StateBackend contract suite under `name`, with backends from `setup`. */
export function describeStateBackendContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`StateBackend contract: ${name}`, () => {
    let harness: ContractHarness;
    const opened: StateBackend[] = [];
    let counter = 0;

    /** A backend on a deployment no other test uses. */
    const fresh = (project = "contract") => {
      counter += 1;
      const backend = harness.create({ project, deployment: `d${counter}-${Math.random().toString(36).slice(2, 8)}` });
      opened.push(backend);
      return backend;
    };

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await Promise.all(opened.map((backend) => backend.close()));
      await harness?.stop();
    });

    it("returns empty checkpoints in request order for shards that were never written", async () => {
      const state = fresh();
      const checkpoints = await state.acquire([9, 2, 5], "w1", 1);
      expect(checkpoints.map((c) => c.shard)).toEqual([9, 2, 5]);
      for (const checkpoint of checkpoints) {
        expect(checkpoint.windows.size).toBe(0);
        expect(checkpoint.watermarks.size).toBe(0);
        expect(checkpoint).toMatchObject({ epoch: 1, owner: "w1" });
      }
    });

    it("loads what was committed, window blobs byte for byte and watermarks by source", async () => {
      const state = fresh();
      await state.acquire([1, 2], "w1", 4);
      const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const result = await state.commit({
        owner: "w1",
        epoch: 4,
        shards: [
          { shard: 1, windows: new Map([["totals", allBytes]]), watermarks: new Map([["gw", 10]]) },
          { shard: 2, windows: { totals: bytes("two"), empty: new Uint8Array(0) }, watermarks: { gw: 3, sdk: 7 } },
        ],
      });
      expect(result).toEqual({ shards: 2, bytes: 259 });
      const [one, two] = await state.load([1, 2]);
      expect([...(one?.windows.get("totals") ?? [])]).toEqual([...allBytes]);
      expect(Object.fromEntries(one?.watermarks ?? [])).toEqual({ gw: 10 });
      expect(text(two?.windows.get("totals"))).toBe("two");
      expect(two?.windows.get("empty")?.byteLength).toBe(0);
      expect(Object.fromEntries(two?.watermarks ?? [])).toEqual({ gw: 3, sdk: 7 });
      expect(two).toMatchObject({ epoch: 4, owner: "w1" });
      const [again] = await state.acquire([2], "w2", 5);
      expect(text(again?.windows.get("totals"))).toBe("two");
      expect(again).toMatchObject({ epoch: 5, owner: "w2" });
    });

    it("rejects a stale owner's commit after a new owner acquired the shard, naming shard and both epochs", async () => {
      const state = fresh();
      await state.acquire([7], "old", 1);
      await state.commit({ owner: "old", epoch: 1, shards: [{ shard: 7, windows: { w: bytes("v1") } }] });
      await state.acquire([7], "new", 2);
      const error = await expectMeshError(
        state.commit({ owner: "old", epoch: 1, shards: [{ shard: 7, windows: { w: bytes("stale") } }] }),
        "FAILED_PRECONDITION",
        "shard 7",
        "epoch 2",
        "epoch 1",
      );
      expect(error.details).toMatchObject({ shard: 7, storedEpoch: 2, epoch: 1 });
      const [checkpoint] = await state.load([7]);
      expect(text(checkpoint?.windows.get("w"))).toBe("v1");
      expect(checkpoint).toMatchObject({ epoch: 2, owner: "new" });
    });

    it("writes nothing of a multi-shard commit when one shard is stale", async () => {
      const state = fresh();
      await state.acquire([1, 2, 3], "a", 1);
      await state.commit({
        owner: "a",
        epoch: 1,
        shards: [1, 2, 3].map((shard) => ({ shard, windows: { w: bytes("base") }, watermarks: { s: 1 } })),
      });
      await state.acquire([3], "b", 2);
      await expectMeshError(
        state.commit({
          owner: "a",
          epoch: 1,
          shards: [
            { shard: 1, windows: { w: bytes("new"), extra: bytes("x") }, watermarks: { s: 9 } },
            { shard: 2, deleteShard: true },
            { shard: 3, windows: { w: bytes("new") } },
          ],
        }),
        "FAILED_PRECONDITION",
        "shard 3",
      );
      const checkpoints = await state.load([1, 2, 3]);
      for (const checkpoint of checkpoints) {
        expect([...checkpoint.windows.keys()]).toEqual(["w"]);
        expect(text(checkpoint.windows.get("w"))).toBe("base");
        expect(checkpoint.watermarks.get("s")).toBe(1);
      }
    });

    it("never lowers a watermark", async () => {
      const state = fresh();
      await state.acquire([0], "w", 1);
      await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 0, watermarks: { a: 100, b: 5 } }] });
      await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 0, watermarks: { a: 40, b: 6, c: 0 } }] });
      const [checkpoint] = await state.load([0]);
      expect(Object.fromEntries(checkpoint?.watermarks ?? [])).toEqual({ a: 100, b: 6, c: 0 });
    });

    it("deletes listed windows, or the whole shard state while keeping its ownership", async () => {
      const state = fresh();
      await state.acquire([1, 2], "w", 3);
      await state.commit({
        owner: "w",
        epoch: 3,
        shards: [
          { shard: 1, windows: { a: bytes("a"), b: bytes("b") }, watermarks: { s: 4 } },
          { shard: 2, windows: { a: bytes("a") }, watermarks: { s: 4 } },
        ],
      });
      await state.commit({
        owner: "w",
        epoch: 3,
        shards: [
          { shard: 1, deletedWindows: ["a", "never-written"] },
          { shard: 2, deleteShard: true, windows: { fresh: bytes("f") } },
        ],
      });
      const [one, two] = await state.load([1, 2]);
      expect([...(one?.windows.keys() ?? [])]).toEqual(["b"]);
      expect(one?.watermarks.get("s")).toBe(4);
      expect([...(two?.windows.keys() ?? [])]).toEqual(["fresh"]);
      expect(two?.watermarks.size).toBe(0);
      expect(two).toMatchObject({ epoch: 3, owner: "w" });
    });

    it("gives the same state when a commit is retried", async () => {
      const state = fresh();
      await state.acquire([4], "w", 1);
      const commit = {
        owner: "w",
        epoch: 1,
        shards: [{ shard: 4, deletedWindows: ["x"], windows: { x: bytes("1"), y: bytes("2") }, watermarks: { s: 8 } }],
      };
      await state.commit(commit);
      await state.commit(commit);
      const [checkpoint] = await state.load([4]);
      expect(text(checkpoint?.windows.get("x"))).toBe("1");
      expect(text(checkpoint?.windows.get("y"))).toBe("2");
      expect(checkpoint?.watermarks.get("s")).toBe(8);
    });

    it("lets the same owner re-acquire at its epoch but rejects a lower epoch or another owner at the same epoch", async () => {
      const state = fresh();
      await state.acquire([1], "w1", 5);
      await state.acquire([1], "w1", 5);
      await expectMeshError(state.acquire([1], "w2", 4), "FAILED_PRECONDITION", "shard 1", "epoch 5", "epoch 4");
      await expectMeshError(state.acquire([1], "w2", 5), "FAILED_PRECONDITION", "shard 1", "w1");
      await expectMeshError(
        state.commit({ owner: "w2", epoch: 5, shards: [{ shard: 1, windows: { a: bytes("x") } }] }),
        "FAILED_PRECONDITION",
        "shard 1",
      );
      const [checkpoint] = await state.load([1]);
      expect(checkpoint).toMatchObject({ epoch: 5, owner: "w1" });
      expect(checkpoint?.windows.size).toBe(0);
    });

    it("fences older epochs once a commit at a newer epoch went through", async () => {
      const state = fresh();
      await state.acquire([1], "w1", 1);
      await state.commit({ owner: "w2", epoch: 2, shards: [{ shard: 1, windows: { a: bytes("two") } }] });
      await expectMeshError(
        state.commit({ owner: "w1", epoch: 1, shards: [{ shard: 1, windows: { a: bytes("one") } }] }),
        "FAILED_PRECONDITION",
      );
      const [checkpoint] = await state.load([1]);
      expect(checkpoint).toMatchObject({ epoch: 2, owner: "w2" });
      expect(text(checkpoint?.windows.get("a"))).toBe("two");
    });

    it("keeps state on release, clears the owner and stops the released owner from committing", async () => {
      const state = fresh();
      await state.acquire([3, 4], "w1", 2);
      await state.commit({ owner: "w1", epoch: 2, shards: [{ shard: 3, windows: { a: bytes("kept") } }] });
      await state.release([3, 4], "w1", 2);
      await state.release([3, 4], "w1", 2);
      const [checkpoint] = await state.load([3]);
      expect(checkpoint).toMatchObject({ epoch: 2, owner: "" });
      expect(text(checkpoint?.windows.get("a"))).toBe("kept");
      await expectMeshError(
        state.commit({ owner: "w1", epoch: 2, shards: [{ shard: 3, windows: { a: bytes("late") } }] }),
        "FAILED_PRECONDITION",
        "released",
      );
      const [taken] = await state.acquire([3], "w2", 3);
      expect(text(taken?.windows.get("a"))).toBe("kept");
      await expectMeshError(state.release([3], "w1", 2), "FAILED_PRECONDITION", "shard 3", "epoch 3", "epoch 2");
    });

    it("answers NOT_FOUND for a deployment no shard was acquired for", async () => {
      const state = fresh();
      await expectMeshError(state.load([1]), "NOT_FOUND", state.deployment);
      await expectMeshError(
        state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { a: bytes("x") } }] }),
        "NOT_FOUND",
        state.deployment,
      );
      await expectMeshError(state.release([1], "w", 1), "NOT_FOUND");
      await expectMeshError(state.dropDeployment(), "NOT_FOUND");
      await state.acquire([], "w", 1);
      expect(await state.load([1])).toMatchObject([{ shard: 1, epoch: 0, owner: "" }]);
    });

    it("forgets every shard of a dropped deployment and only that deployment", async () => {
      const state = fresh();
      const sibling = harness.create({ project: state.project, deployment: `${state.deployment}-sibling` });
      opened.push(sibling);
      for (const backend of [state, sibling]) {
        await backend.acquire([1, 2], "w", 1);
        await backend.commit({
          owner: "w",
          epoch: 1,
          shards: [{ shard: 1, windows: { a: bytes(backend.deployment) } }],
        });
      }
      await state.dropDeployment();
      await expectMeshError(state.load([1]), "NOT_FOUND");
      const [reacquired] = await state.acquire([1], "w", 1);
      expect(reacquired?.windows.size).toBe(0);
      const [untouched] = await sibling.load([1]);
      expect(text(untouched?.windows.get("a"))).toBe(sibling.deployment);
      await sibling.dropDeployment();
    });

    it("keeps projects and deployments apart even when their names contain separators", async () => {
      const tag = Math.random().toString(36).slice(2, 8);
      const left = harness.create({ project: `p/${tag}`, deployment: "x/y" });
      const right = harness.create({ project: `p/${tag}/x`, deployment: "y" });
      const braces = harness.create({ project: `p:{${tag}}`, deployment: "x/y" });
      opened.push(left, right, braces);
      for (const backend of [left, right, braces]) {
        await backend.acquire([1], "w", 1);
        await backend.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { a: bytes(backend.project) } }] });
      }
      for (const backend of [left, right, braces]) {
        const [checkpoint] = await backend.load([1]);
        expect(text(checkpoint?.windows.get("a"))).toBe(backend.project);
        await backend.dropDeployment();
      }
    });

    it("rejects a commit over the size limit with RESOURCE_EXHAUSTED naming both sizes, writing nothing", async () => {
      const state = fresh();
      await state.acquire([1, 2], "w", 1);
      const half = new Uint8Array(CONTRACT_MAX_COMMIT_BYTES / 2 + 1);
      const error = await expectMeshError(
        state.commit({ owner: "w", epoch: 1, shards: [1, 2].map((shard) => ({ shard, windows: { big: half } })) }),
        "RESOURCE_EXHAUSTED",
        String(CONTRACT_MAX_COMMIT_BYTES + 2),
        String(CONTRACT_MAX_COMMIT_BYTES),
      );
      expect(error.details).toMatchObject({ bytes: CONTRACT_MAX_COMMIT_BYTES + 2, limit: CONTRACT_MAX_COMMIT_BYTES });
      const checkpoints = await state.load([1, 2]);
      expect(checkpoints.map((c) => c.windows.size)).toEqual([0, 0]);
      await state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, windows: { big: half } }] });
    });

    it("rejects malformed calls with INVALID_ARGUMENT", async () => {
      const state = fresh();
      await expectMeshError(state.acquire([1, 1], "w", 1), "INVALID_ARGUMENT", "twice");
      await expectMeshError(state.acquire([-1], "w", 1), "INVALID_ARGUMENT", "shard");
      await expectMeshError(state.acquire([1], "", 1), "INVALID_ARGUMENT", "owner");
      await expectMeshError(state.acquire([1], "w", -2), "INVALID_ARGUMENT", "epoch");
      await state.acquire([1], "w", 1);
      await expectMeshError(
        state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1 }, { shard: 1 }] }),
        "INVALID_ARGUMENT",
        "twice",
      );
      await expectMeshError(
        state.commit({ owner: "w", epoch: 1, shards: [{ shard: 1, watermarks: { s: 1.5 } }] }),
        "INVALID_ARGUMENT",
        "watermark",
      );
    });

    it("lets owners of different shards commit concurrently without interfering", async () => {
      const state = fresh();
      const owners = ["a", "b", "c", "d"];
      const shardsOf = (index: number) => [index * 10, index * 10 + 1, index * 10 + 2];
      await Promise.all(owners.map((owner, index) => state.acquire(shardsOf(index), owner, index + 1)));
      const rounds = 20;
      await Promise.all(
        owners.map(async (owner, index) => {
          for (let round = 1; round <= rounds; round++) {
            await state.commit({
              owner,
              epoch: index + 1,
              shards: shardsOf(index).map((shard) => ({
                shard,
                windows: { w: bytes(`${owner}:${round}`) },
                watermarks: { src: round },
              })),
            });
          }
        }),
      );
      for (const [index, owner] of owners.entries()) {
        for (const checkpoint of await state.load(shardsOf(index))) {
          expect(text(checkpoint.windows.get("w"))).toBe(`${owner}:${rounds}`);
          expect(checkpoint.watermarks.get("src")).toBe(rounds);
          expect(checkpoint).toMatchObject({ owner, epoch: index + 1 });
        }
      }
    });
  });
}
