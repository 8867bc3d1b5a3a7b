import { createStaticRegistry } from "@espmesh/registry";
import { MeshError } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { type BalancerOptions, compileBalancerOptions } from "./options.js";

const membership = createStaticRegistry();

function compileError(options: BalancerOptions): MeshError {
  try {
    compileBalancerOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error("expected the options to be rejected");
}

describe("compileBalancerOptions", () => {
  it("applies the defaults: consistent-hash on the key fields, 4096 shards, bounds", () => {
    const compiled = compileBalancerOptions({
      deployment: { project: "p", sources: [{ name: "trades", schema: "id*:int64,value:double" }] },
      membership,
    });
    const source = compiled.sources.get("trades")!;
    expect(source.policy.name).toBe("consistent-hash");
    expect(source.usesShardTable).toBe(true);
    expect(compiled.shardPolicy).toBe("consistent-hash");
    expect(compiled.shardCount).toBe(4096);
    expect(compiled.deployment).toBe("default");
    expect(compiled.maxInFlightEvents).toBe(1_000_000);
    expect(compiled.maxInFlightBytes).toBe(64 * 1024 * 1024);
    expect(compiled.listen).toBe("127.0.0.1:0");
  });

  it("keeps bounded-load and unsharded windows off the shared shard table", () => {
    const compiled = compileBalancerOptions({
      deployment: {
        project: "p",
        sources: [
          { name: "clicks", schema: "id*:int64", routing: { boundedLoad: 1.25, stateless: true } },
          { name: "dims", schema: "id*:int64", routing: { policy: "multicast" } },
        ],
      },
      membership,
    });
    expect(compiled.shardPolicy).toBeUndefined();
    expect(compiled.sources.get("clicks")?.usesShardTable).toBe(false);
  });

  it.each([
    [{ project: "", sources: [{ name: "a", schema: "id*:int64" }] }, "project", undefined],
    [{ project: "p", sources: [] }, "sources", undefined],
    [{ project: "p", sources: [{ name: "a", schema: "id*:int64" }], shardCount: 0 }, "shardCount", undefined],
    [{ project: "p", sources: [{ name: "a", schema: "id*:nope" }] }, undefined, "a"],
    [{ project: "p", sources: [{ name: "a", schema: "id:int64" }] }, "hashFields", "a"],
    [
      { project: "p", sources: [{ name: "a", schema: "id*:int64", routing: { hashFields: ["x"] } }] },
      "hashFields",
      "a",
    ],
    [
      { project: "p", sources: [{ name: "a", schema: "id*:int64", routing: { boundedLoad: 1.2 } }] },
      "boundedLoad",
      "a",
    ],
    [
      {
        project: "p",
        sources: [
          { name: "a", schema: "id*:int64" },
          { name: "a", schema: "id*:int64" },
        ],
      },
      "sources",
      "a",
    ],
    [
      {
        project: "p",
        sources: [
          { name: "a", schema: "id*:int64" },
          { name: "b", schema: "id*:int64", routing: { policy: "hash" as const } },
        ],
      },
      "policy",
      undefined,
    ],
  ])("rejects %j (field %s, window %s)", (deployment, field, window) => {
    const error = compileError({ deployment, membership });
    expect(error.code).toBe("INVALID_ARGUMENT");
    if (field !== undefined) expect(error.details.field).toBe(field);
    if (window !== undefined) expect(error.details.window).toBe(window);
  });
});
