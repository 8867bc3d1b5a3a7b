import { describe, expect, it } from "vitest";
import { CpuMeter, createProcCpuTimeReader } from "./cpu-meter.js";

describe("CpuMeter", () => {
  it("reports percent of one core from the second reading on", async () => {
    let now = 0;
    const seconds = new Map([
      [1, 10],
      [2, 5],
    ]);
    const meter = new CpuMeter(
      async (pid) => seconds.get(pid),
      () => now,
    );
    expect(await meter.measure([1, 2])).toEqual(new Map());
    now = 2000;
    seconds.set(1, 11.5);
    seconds.set(2, 5.1);
    const measured = await meter.measure([1, 2, 3]);
    expect([...measured.keys()]).toEqual([1, 2]);
    expect(measured.get(1)).toBeCloseTo(75);
    expect(measured.get(2)).toBeCloseTo(5);
  });

  it("reads this very process from /proc", async () => {
    const seconds = await createProcCpuTimeReader()(process.pid);
    expect(seconds).toBeGreaterThan(0);
    expect(await createProcCpuTimeReader()(2 ** 22 + 12345)).toBeUndefined();
  });
});
