import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommitRequestSchema } from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { decodeCommitRequest } from "./commit-decoder.js";
import { encodeCommitRequest } from "./commit-encoder.js";
import { type NormalizedCommit, normalizeCommit, validateCommit } from "./normalize.js";
import { commitToProto } from "./proto-convert.js";
import type { CommitRequest } from "./types.js";

const scope = { project: "trädes/eu", deployment: "prod-1" };
const request: CommitRequest = {
  owner: "worker-ß",
  epoch: 7,
  shards: [
    { shard: 0, windows: { empty: new Uint8Array(0) }, watermarks: { zero: 0 } },
    {
      shard: 4_294_967_295,
      windows: new Map([
        ["totals", Uint8Array.from({ length: 300 }, (_, i) => i % 256)],
        ["join/left", Uint8Array.of(1)],
      ]),
      watermarks: { gw: Number.MAX_SAFE_INTEGER, "sdk-😀": 128 },
      deletedWindows: ["old", "older"],
      deleteShard: true,
    },
  ],
};

/** A validated commit with blobs as plain number arrays (decoded blobs are Buffer views). */
function plain(normalized: NormalizedCommit) {
  return {
    ...normalized,
    shards: normalized.shards.map((shard) => ({
      ...shard,
      windows: shard.windows.map(([window, blob]) => [window, [...blob]]),
    })),
  };
}

describe("CommitRequest codec", () => {
  it("writes the bytes protobuf-es writes for the same message", () => {
    const commit = normalizeCommit(request);
    const ours = encodeCommitRequest(scope, commit);
    const theirs = toBinary(CommitRequestSchema, create(CommitRequestSchema, commitToProto(scope, commit)));
    expect(fromBinary(CommitRequestSchema, Uint8Array.from(ours))).toEqual(fromBinary(CommitRequestSchema, theirs));
    expect([...ours]).toEqual([...theirs]);
  });

  it("encodes epoch 0 and an empty commit so protobuf-es reads them back", () => {
    const ours = encodeCommitRequest(scope, normalizeCommit({ owner: "w", epoch: 0, shards: [] }));
    expect(fromBinary(CommitRequestSchema, ours)).toMatchObject({ ...scope, owner: "w", epoch: 0n, shards: [] });
  });

  it("reads what protobuf-es writes back to the same commit", () => {
    const commit = normalizeCommit(request);
    const bytes = toBinary(CommitRequestSchema, create(CommitRequestSchema, commitToProto(scope, commit)));
    const decoded = decodeCommitRequest(bytes);
    expect(decoded.project).toBe(scope.project);
    expect(decoded.deployment).toBe(scope.deployment);
    expect(plain(validateCommit(decoded.commit))).toEqual(plain(normalizeCommit(request)));
  });

  it("skips fields it does not know, of every wire type", () => {
    const base = encodeCommitRequest(scope, normalizeCommit(request));
    const unknown = Buffer.from([
      0x78,
      0x96,
      0x01, // field 15, varint 150
      0x82,
      0x01,
      0x02,
      0x61,
      0x62, // field 16, length-delimited "ab"
      0x8d,
      0x01,
      1,
      2,
      3,
      4, // field 17, fixed32
      0x91,
      0x01,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 18, fixed64
    ]);
    const decoded = decodeCommitRequest(Buffer.concat([unknown, base, unknown]));
    expect(plain(validateCommit(decoded.commit))).toEqual(plain(normalizeCommit(request)));
  });

  it("rejects truncated input and 64-bit values beyond 2^53 - 1 with INVALID_ARGUMENT", () => {
    const base = encodeCommitRequest(scope, normalizeCommit(request));
    expect(() => decodeCommitRequest(base.subarray(0, base.length - 3))).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    const huge = toBinary(CommitRequestSchema, create(CommitRequestSchema, { owner: "w", epoch: 2n ** 60n }));
    expect(() => decodeCommitRequest(huge)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
