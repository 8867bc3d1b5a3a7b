import type { CompiledRouting, SettingsProblem } from "./deployment-settings.js";
import { type ProjectShape, type StateKeyShape, upstreamSources, type WindowShape } from "./project-shape.js";

function list(names: readonly string[]): string {
  return names.join(", ");
}

/** The sources whose rows reach the part of `window` that `key` partitions. */
function sourcesOfKey(project: ProjectShape, window: WindowShape, key: StateKeyShape): string[] {
  const role = key.role.toLowerCase();
  if (window.inputs.length >= 2 && role.includes("left")) return upstreamSources(project, window.inputs[0] as string);
  if (window.inputs.length >= 2 && role.includes("right")) return upstreamSources(project, window.inputs[1] as string);
  return upstreamSources(project, window.name);
}

/**
 * Every stateful window's state must not be split across workers: each source feeding a key is
 * multicast, or hashed on fields that the key is made of (round-robin never qualifies).
 */
export function checkCoverage(
  project: ProjectShape,
  routing: Readonly<Record<string, CompiledRouting>>,
  problems: SettingsProblem[],
): void {
  for (const window of project.windows) {
    if (!window.stateful) continue;
    for (const key of window.stateKeys) {
      const keyText = `${key.role} (${list(key.fields)})`;
      for (const source of sourcesOfKey(project, window, key)) {
        const route = routing[source];
        if (route === undefined || route.policy === "multicast") continue;
        if (route.policy === "round-robin") {
          problems.push({
            window: window.name,
            message:
              `window "${window.name}" keeps state by its ${keyText} but source "${source}" is routed round-robin, ` +
              `so a group would be split across workers; route "${source}" by hash or consistent-hash on fields of that key, or multicast it`,
          });
          continue;
        }
        const uncovered = route.hashFields.filter(
          (field) =>
            !key.sources.some((fieldSources) => fieldSources.some((s) => s.window === source && s.field === field)),
        );
        if (uncovered.length > 0) {
          problems.push({
            window: window.name,
            field: uncovered[0] as string,
            message:
              `window "${window.name}" keeps state by its ${keyText} but source "${source}" is routed by ${route.policy} on ` +
              `(${list(route.hashFields)}): ${list(uncovered.map((f) => `"${f}"`))} ${uncovered.length === 1 ? "is" : "are"} not part of that key, ` +
              `so a group would be split across workers; hash "${source}" on fields that ${keyText} is made of, or multicast it`,
          });
        }
      }
    }
  }
}

/** Positions in `key` of the fields a source is hashed on, or undefined if one is not in the key. */
function keyPositions(key: StateKeyShape, source: string, route: CompiledRouting): number[] | undefined {
  const positions: number[] = [];
  for (const field of route.hashFields) {
    const index = key.sources.findIndex((fieldSources) =>
      fieldSources.some((s) => s.window === source && s.field === field),
    );
    if (index < 0) return undefined;
    positions.push(index);
  }
  return positions;
}

/**
 * A join whose two sides are both partitioned (not multicast) only works when matching rows land
 * on the same worker: both sides must use the same policy and hash the join fields in the same order.
 */
export function checkJoinColocation(
  project: ProjectShape,
  routing: Readonly<Record<string, CompiledRouting>>,
  problems: SettingsProblem[],
): void {
  for (const window of project.windows) {
    if (!window.stateful || window.inputs.length < 2) continue;
    const sides: { source: string; route: CompiledRouting; positions: number[] | undefined }[] = [];
    for (const key of window.stateKeys) {
      const role = key.role.toLowerCase();
      if (!role.includes("left") && !role.includes("right")) continue;
      for (const source of sourcesOfKey(project, window, key)) {
        const route = routing[source];
        if (route === undefined || route.policy === "multicast" || route.policy === "round-robin") continue;
        sides.push({ source, route, positions: keyPositions(key, source, route) });
      }
    }
    const [first, ...others] = sides;
    if (first === undefined) continue;
    for (const other of others) {
      if (other.source === first.source) continue;
      if (other.route.policy !== first.route.policy) {
        problems.push({
          window: window.name,
          message:
            `window "${window.name}" joins source "${first.source}" routed by ${first.route.policy} with source "${other.source}" ` +
            `routed by ${other.route.policy}, so matching rows could meet on different workers; use the same policy for both or multicast one side`,
        });
      } else if (
        first.positions !== undefined &&
        other.positions !== undefined &&
        JSON.stringify(first.positions) !== JSON.stringify(other.positions)
      ) {
        problems.push({
          window: window.name,
          message:
            `window "${window.name}" joins "${first.source}" hashed on (${list(first.route.hashFields)}) with "${other.source}" ` +
            `hashed on (${list(other.route.hashFields)}), which are not the same join fields in the same order; hash both sides on matching join fields`,
        });
      }
    }
  }
}
