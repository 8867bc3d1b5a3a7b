import { describe, expect, it } from "vitest";
import { type DeliveryHandle, DeliveryTracker } from "./delivery-tracker.js";

function handle(name: string, log: string[]): DeliveryHandle {
  return {
    ack: () => log.push(`${name}:ack`),
    nak: () => log.push(`${name}:nak`),
    working: () => log.push(`${name}:working`),
    term: () => log.push(`${name}:term`),
  };
}

describe("DeliveryTracker", () => {
  it("yields new messages in stream order, with gaps in stream sequences allowed", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    expect(tracker.receive(1, 1)).toBe("yield");
    expect(tracker.receive(4, 2)).toBe("yield");
    expect(tracker.receive(9, 3)).toBe("yield");
    expect(tracker.highestSeq).toBe(9);
  });

  it("drops a redelivery of a held message and keeps the newer handle for its ack", () => {
    const log: string[] = [];
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    expect(tracker.receive(1, 1)).toBe("yield");
    tracker.hold(1, handle("first", log), 0);
    expect(tracker.receive(2, 2)).toBe("yield");
    expect(tracker.receive(1, 3)).toBe("outstanding");
    tracker.replace(1, handle("second", log), 10);
    tracker.settle(1)?.ack();
    expect(log).toEqual(["second:ack"]);
    expect(tracker.heldCount).toBe(0);
  });

  it("answers done for a redelivery of a message that was already acked", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    tracker.receive(1, 1);
    tracker.hold(1, handle("m1", []), 0);
    tracker.settle(1);
    expect(tracker.receive(1, 2)).toBe("done");
  });

  it("hands a nak'ed message out again when it is redelivered", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    tracker.receive(1, 1);
    tracker.hold(1, handle("m1", []), 0);
    tracker.receive(2, 2);
    tracker.hold(2, handle("m2", []), 0);
    expect(tracker.release(1)).toBeDefined();
    expect(tracker.receive(1, 3)).toBe("yield");
  });

  it("reports a gap when the delivery sequence jumps, and restarts at the lowest held message", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(5);
    expect(tracker.receive(10, 6)).toBe("yield");
    tracker.hold(10, handle("m10", []), 0);
    expect(tracker.receive(11, 7)).toBe("yield");
    expect(tracker.receive(13, 9)).toBe("gap");
    expect(tracker.highestSeq).toBe(11);
    expect(tracker.restartPoint()).toBe(10);
    tracker.settle(10);
    expect(tracker.restartPoint()).toBe(12);
  });

  it("restarts at a nak'ed message below the highest one handed out", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    tracker.receive(3, 1);
    tracker.hold(3, handle("m3", []), 0);
    tracker.receive(4, 2);
    tracker.release(3);
    expect(tracker.restartPoint()).toBe(3);
  });

  it("accepts a delivery sequence that went back (server state restored from an older snapshot)", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(8);
    expect(tracker.receive(5, 6)).toBe("yield");
    expect(tracker.receive(6, 7)).toBe("yield");
  });

  it("lists held messages not touched for a while, once per period", () => {
    const log: string[] = [];
    const tracker = new DeliveryTracker();
    tracker.restart(0);
    tracker.receive(1, 1);
    tracker.hold(1, handle("old", log), 0);
    tracker.receive(2, 2);
    tracker.hold(2, handle("new", log), 900);
    for (const held of tracker.stale(500, 1000)) held.working();
    expect(log).toEqual(["old:working"]);
    expect(tracker.stale(500, 1000)).toEqual([]);
  });

  it("treats deliveries at or below the ack floor it opened at as settled, and restarts after it", () => {
    const tracker = new DeliveryTracker();
    tracker.restart(40, 40);
    expect(tracker.restartPoint()).toBe(41);
    expect(tracker.receive(38, 41)).toBe("done");
    expect(tracker.receive(41, 42)).toBe("yield");
  });
});
