import { describe, expect, it } from "vitest";
import { MeshError } from "./errors.js";
import { createLogger, type LogDestination, noopLogger } from "./logger.js";

function capture(): LogDestination & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("tags every line with the component, the level label and the message", () => {
    const out = capture();
    const logger = createLogger({ component: "balancer", destination: out });
    logger.info("started");
    logger.warn({ shard: 3 }, "slow shard");
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toMatchObject({ component: "balancer", level: "info", msg: "started" });
    expect(out.lines[1]).toMatchObject({ component: "balancer", level: "warn", msg: "slow shard", shard: 3 });
    expect(typeof out.lines[0]?.time).toBe("string");
  });

  it("keeps the component and adds bindings in children", () => {
    const out = capture();
    const logger = createLogger({ component: "worker", destination: out, bindings: { workerId: "w-1" } });
    logger.child({ shard: 9 }).error({ err: new MeshError("UNAVAILABLE", "redis down") }, "commit failed");
    expect(out.lines[0]).toMatchObject({ component: "worker", workerId: "w-1", shard: 9, level: "error" });
    expect(out.lines[0]?.err).toMatchObject({ code: "UNAVAILABLE", message: "redis down" });
  });

  it("drops lines below the level", () => {
    const out = capture();
    const logger = createLogger({ component: "gateway", level: "warn", destination: out });
    logger.debug("hidden");
    logger.info("hidden");
    logger.error("shown");
    expect(out.lines.map((line) => line.msg)).toEqual(["shown"]);
  });

  it("rejects an empty component and an unknown level naming the option", () => {
    expect(() => createLogger({ component: "" })).toThrow(/component/);
    expect(() => createLogger({ component: "x", level: "loud" as "info" })).toThrow(/level/);
  });
});

describe("noopLogger", () => {
  it("accepts every call and returns itself as child", () => {
    noopLogger.info("x");
    noopLogger.error({ a: 1 }, "y");
    expect(noopLogger.child({ component: "c" })).toBe(noopLogger);
  });
});
