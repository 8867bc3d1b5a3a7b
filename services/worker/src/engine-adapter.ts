import { createEngine, type Engine, type ProjectModel, type ShardedOutputSet } from "@espmesh/engine";
import { type Batch, emptyBatch } from "@espmesh/events";
import type { Logger } from "@espmesh/telemetry";
import type { ApplyResult, EngineHost, RejectedEvent } from "./engine-host.js";

/**
 * The state service stores opaque blobs per shard under window names. The engine snapshots a
 * shard as one blob holding a section per stateful window, so the worker stores it under this
 * single name.
 */
export const ENGINE_STATE_KEY = "engine";

/** Options of {@link createEngineHost}. */
export interface EngineHostOptions {
  /** Hash fields per source window (the deployment's routing); default: the window's key fields. */
  routing?: Readonly<Record<string, readonly string[]>>;
  /** Source windows fed by multicast: every worker sees all their events. */
  multicastSources?: readonly string[];
  /** @default 4096 */
  shardCount?: number;
  /**
   * Return the shard of every output event with the outputs (output bindings publish per shard).
   * @default false
   */
  outputShards?: boolean;
  logger?: Logger;
}

/** Runs a project's {@link Engine} behind the worker's {@link EngineHost} seam. */
export function createEngineHost(model: ProjectModel, options: EngineHostOptions = {}): EngineHost {
  let rejected: RejectedEvent[] = [];
  const engine = createEngine(model, {
    ...(options.routing ? { routing: options.routing } : {}),
    ...(options.shardCount ? { shardCount: options.shardCount } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    onBadEvent: (event) => rejected.push({ window: event.window, row: event.row, field: "", reason: event.reason }),
  });
  const replicated = replicatedWindows(model, new Set(options.multicastSources ?? []));

  const collect = (outputs: ReadonlyMap<string, Batch>): ApplyResult => {
    const result = { outputs: [...outputs], rejected };
    rejected = [];
    return result;
  };
  const collectSharded = (outputs: ShardedOutputSet): ApplyResult => {
    const result = {
      outputs: [...outputs].map(([window, { batch, shards }]) => [window, batch, shards] as const),
      rejected,
    };
    rejected = [];
    return result;
  };
  const withShards = options.outputShards === true;

  return {
    sourceWindows: model.sources,
    shardsOf: (window, batch) => engine.shardsOf(window, batch),
    apply: (window, batch, shards) =>
      withShards
        ? collectSharded(engine.processWithShards(window, batch, { shards }))
        : collect(engine.process(window, batch, { shards })),
    advance: (now) => (withShards ? collectSharded(engine.advanceWithShards(now)) : collect(engine.advance(now))),
    takeDirty() {
      const dirty = engine.dirtyShards();
      engine.clearDirty();
      return dirty;
    },
    snapshot: (shard) => new Map([[ENGINE_STATE_KEY, engine.snapshot(shard)]]),
    restore(shard, windows) {
      engine.drop(shard);
      const bytes = windows.get(ENGINE_STATE_KEY);
      if (bytes && bytes.byteLength > 0) engine.restore(shard, bytes);
    },
    drop: (shard) => engine.drop(shard),
    isReplicated: (window) => replicated.has(window),
    query: (window) => ({ rows: tableOf(engine, model, window), replicated: replicated.has(window) }),
  };
}

/** Windows every input path of which starts at a multicast source. */
function replicatedWindows(model: ProjectModel, multicast: ReadonlySet<string>): Set<string> {
  const result = new Set<string>();
  for (const window of model.windows) {
    const replicatedWindow =
      window.inputs.length === 0 ? multicast.has(window.name) : window.inputs.every((input) => result.has(input));
    if (replicatedWindow) result.add(window.name);
  }
  return result;
}

/**
 * The current rows of a window. A window that keeps no table (a stateless source or filter) has
 * none: it answers with its schema and no rows, so clients can still learn the schema.
 */
function tableOf(engine: Engine, model: ProjectModel, window: string): Batch {
  const definition = model.window(window);
  if (definition && !definition.stateful) return emptyBatch(definition.schema);
  return engine.query(window);
}
