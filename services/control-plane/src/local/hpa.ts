/** Inputs of one HPA evaluation. */
export interface HpaInput {
  /** Workers running now. */
  readonly currentReplicas: number;
  /** Average CPU of the measured workers, in percent of one core. */
  readonly cpuUtilization: number;
  /** The target, in the same unit. */
  readonly targetUtilization: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** No change while |cpu/target - 1| is within this. @default 0.1 */
  readonly tolerance?: number;
}

/** What one evaluation recommends, and why. */
export interface HpaRecommendation {
  readonly replicas: number;
  readonly reason: string;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * The Kubernetes HorizontalPodAutoscaler rule: `desired = ceil(current × cpu / target)`, no
 * change while the ratio is within the tolerance of 1, bounded by min and max.
 */
export function hpaRecommendation(input: HpaInput): HpaRecommendation {
  const tolerance = input.tolerance ?? 0.1;
  const { currentReplicas: current, minReplicas: min, maxReplicas: max } = input;
  const ratio = input.cpuUtilization / input.targetUtilization;
  const cpu = `cpu ${input.cpuUtilization.toFixed(1)}% vs target ${input.targetUtilization}%`;
  if (current < min) return { replicas: min, reason: `below minReplicas ${min}` };
  if (current > max) return { replicas: max, reason: `above maxReplicas ${max}` };
  if (Math.abs(ratio - 1) <= tolerance) return { replicas: current, reason: `${cpu}: within tolerance ${tolerance}` };
  const raw = Math.ceil(current * ratio);
  const replicas = clamp(raw, min, max);
  const bound = raw > max ? ` (capped at maxReplicas ${max})` : raw < min ? ` (raised to minReplicas ${min})` : "";
  return { replicas, reason: `${cpu}: ceil(${current} × ${ratio.toFixed(2)}) = ${raw}${bound}` };
}

/** A past recommendation, kept for the scale-down stabilisation window. */
export interface TimedRecommendation {
  readonly atMs: number;
  readonly replicas: number;
}

/**
 * Scale-down stabilisation as Kubernetes does it: scale down only to the highest replica count
 * recommended within the last `windowMs`, so a short dip does not remove workers. Scaling up is
 * immediate. Returns the replicas to run and the history to keep (entries older than the window
 * dropped, the new one added).
 */
export function stabilizeScaleDown(
  history: readonly TimedRecommendation[],
  recommendation: TimedRecommendation,
  windowMs: number,
): { replicas: number; history: TimedRecommendation[] } {
  const kept = history.filter((entry) => entry.atMs > recommendation.atMs - windowMs);
  kept.push(recommendation);
  const replicas = Math.max(...kept.map((entry) => entry.replicas));
  return { replicas, history: kept };
}
