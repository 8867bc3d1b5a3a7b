import { MeshError } from "@espmesh/telemetry";
import { type EngineLogger, noopLogger } from "../logger.js";
import type { ProjectModel } from "../model/project-model.js";
import type { BadEvent } from "./bad-events.js";

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /**
   * The time in microseconds, read when a window needs "now" (system-time retention, timed
   * aggregates, counters). @default the time last given to `engine.advance` (0 before), so an
   * engine without a clock is fully deterministic
   */
  clock?: () => number;
  /** Number of shards state is partitioned into; fixed per deployment. @default 4096 */
  shardCount?: number;
  /**
   * Routing-key fields per source window: the shard of an event is the hash of these fields.
   * @default each source window's key fields
   */
  routing?: Readonly<Record<string, readonly string[]>>;
  /** Where bad events and diagnostics go. @default a logger that writes nothing */
  logger?: EngineLogger;
  /** Called for every rejected input event (after it is counted). @default none */
  onBadEvent?: (event: BadEvent) => void;
  /** How many recent bad events `engine.badEvents.recent` keeps. @default 100 */
  badEventHistory?: number;
}

/** Engine options with every default applied and checked against the project. */
export interface CompiledEngineOptions {
  readonly clock: (() => number) | undefined;
  readonly shardCount: number;
  /** Routing-key field indexes per source window. */
  readonly routing: ReadonlyMap<string, readonly number[]>;
  readonly logger: EngineLogger;
  readonly onBadEvent: ((event: BadEvent) => void) | undefined;
  readonly badEventHistory: number;
}

/**
 * Applies defaults and validates options against a project.
 * @throws MeshError INVALID_ARGUMENT naming the option (and window, field) that is wrong.
 */
export function compileEngineOptions(model: ProjectModel, options: EngineOptions = {}): CompiledEngineOptions {
  const shardCount = options.shardCount ?? 4096;
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 2 ** 31) {
    throw new MeshError("INVALID_ARGUMENT", `shardCount must be an integer from 1 to 2^31, got ${shardCount}`);
  }
  const history = options.badEventHistory ?? 100;
  if (!Number.isInteger(history) || history < 0) {
    throw new MeshError("INVALID_ARGUMENT", `badEventHistory must be a non-negative integer, got ${history}`);
  }
  const routing = new Map<string, readonly number[]>();
  for (const name of model.sources) {
    const window = model.window(name)!;
    routing.set(name, window.schema.keyIndexes);
  }
  for (const [name, fields] of Object.entries(options.routing ?? {})) {
    const window = model.window(name);
    if (window === undefined || window.inputs.length > 0) {
      throw new MeshError("INVALID_ARGUMENT", `routing: "${name}" is not a source window of project "${model.name}"`, {
        details: { window: name },
      });
    }
    if (fields.length === 0) {
      throw new MeshError("INVALID_ARGUMENT", `routing: window "${name}" needs at least one routing field`, {
        details: { window: name },
      });
    }
    routing.set(
      name,
      fields.map((field) => {
        const index = window.schema.indexOf(field);
        if (index < 0) {
          throw new MeshError("INVALID_ARGUMENT", `routing: "${field}" is not a field of window "${name}"`, {
            details: { window: name, field },
          });
        }
        return index;
      }),
    );
  }
  return {
    clock: options.clock,
    shardCount,
    routing,
    logger: options.logger ?? noopLogger,
    onBadEvent: options.onBadEvent,
    badEventHistory: history,
  };
}
