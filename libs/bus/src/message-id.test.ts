import { describe, expect, it } from "vitest";
import { originMessageId } from "./message-id.js";

describe("originMessageId", () => {
  it("names deployment, window, shard and origin, with the part only when split", () => {
    expect(originMessageId("stage1", "cost", 3, { sourceId: "pub-1", seq: 42 })).toBe("stage1:cost:3:pub-1:42");
    expect(originMessageId("stage1", "cost", 3, { sourceId: "pub-1", seq: 42 }, 2)).toBe("stage1:cost:3:pub-1:42:2");
    expect(originMessageId("s", "w", 0, { sourceId: "js:S:d", seq: 1 })).toBe("s:w:0:js%3AS%3Ad:1");
  });

  it("gives different inputs different ids", () => {
    const ids = new Set([
      originMessageId("a", "w", 1, { sourceId: "x", seq: 12 }),
      originMessageId("a", "w", 11, { sourceId: "x", seq: 2 }),
      originMessageId("a", "w", 1, { sourceId: "x:1", seq: 2 }),
      originMessageId("a", "w", 1, { sourceId: "x", seq: 1 }, 2),
    ]);
    expect(ids.size).toBe(4);
  });

  it("rejects an empty sourceId and bad numbers", () => {
    expect(() => originMessageId("d", "w", 0, { sourceId: "", seq: 1 })).toThrow(/sourceId/);
    expect(() => originMessageId("d", "w", 0, { sourceId: "s", seq: -1 })).toThrow(/seq/);
    expect(() => originMessageId("d", "w", 0, { sourceId: "s", seq: 1 }, 0.5)).toThrow(/part/);
  });
});
