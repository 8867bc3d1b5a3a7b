import { describe, expect, it } from "vitest";
import { hpaRecommendation, stabilizeScaleDown } from "./hpa.js";

const base = { minReplicas: 1, maxReplicas: 10, targetUtilization: 50 };

describe("hpaRecommendation", () => {
  it("scales by ceil(current × cpu / target)", () => {
    expect(hpaRecommendation({ ...base, currentReplicas: 2, cpuUtilization: 90 }).replicas).toBe(4);
    expect(hpaRecommendation({ ...base, currentReplicas: 3, cpuUtilization: 20 }).replicas).toBe(2);
    expect(hpaRecommendation({ ...base, currentReplicas: 4, cpuUtilization: 0 }).replicas).toBe(1);
  });

  it("keeps the count while the ratio is within the 10% tolerance", () => {
    expect(hpaRecommendation({ ...base, currentReplicas: 3, cpuUtilization: 54.9 })).toMatchObject({ replicas: 3 });
    expect(hpaRecommendation({ ...base, currentReplicas: 3, cpuUtilization: 45.1 })).toMatchObject({ replicas: 3 });
    expect(hpaRecommendation({ ...base, currentReplicas: 3, cpuUtilization: 56 }).replicas).toBe(4);
    expect(hpaRecommendation({ ...base, currentReplicas: 3, cpuUtilization: 54, tolerance: 0 }).replicas).toBe(4);
  });

  it("stays within min and max and says so", () => {
    const capped = hpaRecommendation({ ...base, maxReplicas: 3, currentReplicas: 2, cpuUtilization: 400 });
    expect(capped).toEqual({
      replicas: 3,
      reason: "cpu 400.0% vs target 50%: ceil(2 × 8.00) = 16 (capped at maxReplicas 3)",
    });
    expect(hpaRecommendation({ ...base, minReplicas: 2, currentReplicas: 3, cpuUtilization: 1 }).replicas).toBe(2);
    expect(hpaRecommendation({ ...base, minReplicas: 2, currentReplicas: 1, cpuUtilization: 50 })).toEqual({
      replicas: 2,
      reason: "below minReplicas 2",
    });
    expect(hpaRecommendation({ ...base, maxReplicas: 2, currentReplicas: 5, cpuUtilization: 50 }).replicas).toBe(2);
  });
});

describe("stabilizeScaleDown", () => {
  it("scales up at once", () => {
    expect(stabilizeScaleDown([{ atMs: 0, replicas: 1 }], { atMs: 10, replicas: 3 }, 300_000).replicas).toBe(3);
  });

  it("scales down only to the highest recommendation within the window", () => {
    let history = [{ atMs: 0, replicas: 3 }];
    let step = stabilizeScaleDown(history, { atMs: 100_000, replicas: 1 }, 300_000);
    expect(step.replicas).toBe(3);
    history = step.history;
    step = stabilizeScaleDown(history, { atMs: 200_000, replicas: 2 }, 300_000);
    expect(step.replicas).toBe(3);
    step = stabilizeScaleDown(step.history, { atMs: 300_001, replicas: 1 }, 300_000);
    expect(step.replicas).toBe(2);
    expect(step.history.map((entry) => entry.atMs)).toEqual([100_000, 200_000, 300_001]);
  });
});
