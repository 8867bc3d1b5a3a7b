import { type Batch, concatBatches, hashRow, hashRows, sameSchema, schemaToString } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";
import type { ProjectModel, WindowModel } from "../model/project-model.js";
import { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { ArrayShards, type Flow, HashShards } from "../runtime/flow.js";
import { valueAt } from "../runtime/values.js";
import { registerBuiltinWindows } from "../windows/builtin.js";
import { windowKind } from "../windows/registry.js";
import type { OperatorContext, WindowOperator } from "../windows/window-kind.js";
import { type BadEventCounters, BadEventLog } from "./bad-events.js";
import { type CompiledEngineOptions, compileEngineOptions, type EngineOptions } from "./engine-options.js";
import { decodeSnapshot, encodeSnapshot, projectFingerprint } from "./snapshot-format.js";

/** The events each window emitted, by window name (only windows that emitted something). */
export type OutputSet = ReadonlyMap<string, Batch>;

/** A window's emitted events with the shard of each: the shard of the source event it came from. */
export interface ShardedBatch {
  readonly batch: Batch;
  /** `shards[row]` is the shard of `batch` row `row` (same length as the batch). */
  readonly shards: Uint32Array;
}

/** Like {@link OutputSet}, with the shard of every emitted event. */
export type ShardedOutputSet = ReadonlyMap<string, ShardedBatch>;

/** Options of one {@link Engine.process} call. */
export interface ProcessOptions {
  /** The shard of every row, when the caller already computed them. @default from the routing key */
  shards?: Uint32Array;
}

/**
 * A running project: windows as operators over whole batches, state partitioned by shard.
 * Pure: no I/O, no timers; time comes from the clock option or from {@link advance}.
 */
export interface Engine {
  readonly model: ProjectModel;
  readonly shardCount: number;
  /**
   * Feeds a batch into a source window and runs it through the graph. Returns the events every
   * window emitted (the source window's own included), keyed by window name. The batches of
   * windows that only select rows (a filter, a compute behind one) copy them from `batch` when
   * their opcodes or columns are first read: `batch` must not change afterwards.
   * @throws MeshError NOT_FOUND for an unknown window, INVALID_ARGUMENT when the window is not a
   * source or the batch has another schema.
   */
  process(window: string, batch: Batch, options?: ProcessOptions): OutputSet;
  /**
   * {@link process}, also returning the shard of every emitted event (the shard the engine
   * carried from the source event, or the shard of the state that emitted it). Cascades use it to
   * publish each shard's outputs under their own de-duplication id.
   */
  processWithShards(window: string, batch: Batch, options?: ProcessOptions): ShardedOutputSet;
  /** Lets time pass to `now` (µs): retention expiry, counters. Returns what windows emitted. */
  advance(now: number): OutputSet;
  /** {@link advance}, also returning the shard of every emitted event. */
  advanceWithShards(now: number): ShardedOutputSet;
  /** The shard of one row of a batch for a source window (from its routing key). */
  shardOf(window: string, batch: Batch, row: number): number;
  /** The shard of every row of a batch for a source window. */
  shardsOf(window: string, batch: Batch): Uint32Array;
  /** The state of one shard as bytes (see `snapshot-format.ts`). */
  snapshot(shard: number): Uint8Array;
  /** Replaces the state of one shard with a snapshot. */
  restore(shard: number, bytes: Uint8Array): void;
  /** Forgets the state of one shard. */
  drop(shard: number): void;
  /** Shards changed since the last {@link clearDirty}, ascending. */
  dirtyShards(): number[];
  /** Marks every shard clean (after a checkpoint). */
  clearDirty(): void;
  /** Shards any window holds state for, ascending. */
  stateShards(): number[];
  /**
   * The current rows of a stateful window's table (opcode insert).
   * @throws MeshError FAILED_PRECONDITION for a window that keeps no table.
   */
  query(window: string): Batch;
  /** Events rejected so far. */
  readonly badEvents: BadEventCounters;
}

interface Node {
  readonly window: WindowModel;
  readonly operator: WindowOperator;
  /** Downstream windows and the input index this window has there. */
  readonly targets: readonly { readonly node: number; readonly input: number }[];
}

class EngineImpl implements Engine {
  readonly shardCount: number;
  private readonly options: CompiledEngineOptions;
  private readonly nodes: Node[] = [];
  private readonly indexByName = new Map<string, number>();
  private readonly dirty = new Set<number>();
  private readonly bad: BadEventLog;
  private readonly fingerprint: string;
  private time = 0;

  constructor(
    readonly model: ProjectModel,
    options: EngineOptions,
  ) {
    registerBuiltinWindows();
    this.options = compileEngineOptions(model, options);
    this.shardCount = this.options.shardCount;
    this.bad = new BadEventLog(this.options.badEventHistory);
    this.fingerprint = projectFingerprint(model);
    for (const [index, window] of model.windows.entries()) this.indexByName.set(window.name, index);
    for (const window of model.windows) {
      const kind = windowKind(window.kind);
      if (kind === undefined) throw new MeshError("INVALID_ARGUMENT", `unknown window kind "${window.kind}"`);
      const targets = window.outputs.flatMap((target) => {
        const node = this.indexByName.get(target)!;
        const inputs = model.window(target)!.inputs;
        return inputs.flatMap((input, i) => (input === window.name ? [{ node, input: i }] : []));
      });
      const operator = kind.create(window, this.contextFor(window));
      this.nodes.push({ window, operator, targets });
    }
  }

  private contextFor(window: WindowModel): OperatorContext {
    return {
      project: this.model,
      inputs: window.inputs.map((name) => this.model.window(name)!),
      shardCount: this.shardCount,
      logger: this.options.logger,
      now: () => this.now(),
      markDirty: (shard) => this.dirty.add(shard),
      badEvent: (row, reason, batch) => this.badEvent(window, row, reason, batch),
    };
  }

  private now(): number {
    return this.options.clock === undefined ? this.time : this.options.clock();
  }

  private badEvent(window: WindowModel, row: number, reason: string, batch: Batch): void {
    const key = batch.schema.keyIndexes.map((index) => valueAt(batch.columns[index]!, row));
    const event = { window: window.name, row, reason, opcode: batch.opcodes[row] as 1 | 2 | 3 | 4, key };
    this.bad.add(event);
    this.options.logger.warn(
      { window: window.name, row, key, reason },
      `bad event in window "${window.name}": ${reason}`,
    );
    this.options.onBadEvent?.(event);
  }

  get badEvents(): BadEventCounters {
    return this.bad;
  }

  private node(name: string): Node {
    const index = this.indexByName.get(name);
    if (index === undefined)
      throw new MeshError("NOT_FOUND", `no window "${name}" in project "${this.model.name}"`, {
        details: { window: name },
      });
    return this.nodes[index]!;
  }

  private sourceNode(name: string): Node {
    const node = this.node(name);
    if (node.window.inputs.length > 0) {
      throw new MeshError(
        "INVALID_ARGUMENT",
        `window "${name}" is not a source window; events enter through source windows`,
        {
          details: { window: name },
        },
      );
    }
    return node;
  }

  process(window: string, batch: Batch, options: ProcessOptions = {}): OutputSet {
    return batchesOf(this.feed(window, batch, options));
  }

  processWithShards(window: string, batch: Batch, options: ProcessOptions = {}): ShardedOutputSet {
    return shardedBatchesOf(this.feed(window, batch, options));
  }

  private feed(window: string, batch: Batch, options: ProcessOptions): Map<string, Flow[]> {
    const node = this.sourceNode(window);
    if (!sameSchema(batch.schema, node.window.schema)) {
      throw new MeshError(
        "INVALID_ARGUMENT",
        `batch schema ${schemaToString(batch.schema)} does not match window "${window}" (${schemaToString(node.window.schema)})`,
        { details: { window } },
      );
    }
    if (batch.length === 0) return new Map();
    let shards: Flow["shards"];
    if (options.shards !== undefined) {
      if (options.shards.length < batch.length) {
        throw new MeshError("INVALID_ARGUMENT", `got ${options.shards.length} shards for ${batch.length} rows`, {
          details: { window },
        });
      }
      shards = new ArrayShards(options.shards);
    } else {
      shards = new HashShards(batch, this.options.routing.get(window)!, this.shardCount);
    }
    const index = this.indexByName.get(window)!;
    return this.run([{ node: index, input: 0, flow: { batch, old: undefined, shards } }], undefined);
  }

  advance(now: number): OutputSet {
    return batchesOf(this.tick(now));
  }

  advanceWithShards(now: number): ShardedOutputSet {
    return shardedBatchesOf(this.tick(now));
  }

  private tick(now: number): Map<string, Flow[]> {
    if (!Number.isFinite(now)) throw new MeshError("INVALID_ARGUMENT", `advance needs a finite time, got ${now}`);
    this.time = Math.max(this.time, now);
    return this.run([], now);
  }

  /**
   * Runs flows through the graph in topological order. With `advanceTo`, every operator is also
   * asked to advance before it processes what its inputs emitted.
   */
  private run(
    initial: { node: number; input: number; flow: Flow }[],
    advanceTo: number | undefined,
  ): Map<string, Flow[]> {
    const nodes = this.nodes;
    const pending: Pending = new Array(nodes.length);
    let start = initial.length > 0 ? nodes.length : 0;
    for (const item of initial) {
      enqueue(pending, item.node, item.input, item.flow);
      start = Math.min(start, item.node);
    }
    const emitted = new Map<string, Flow[]>();
    for (let i = start; i < nodes.length; i++) {
      const node = nodes[i]!;
      const queue = pending[i];
      if (queue === undefined && (advanceTo === undefined || node.operator.advance === undefined)) continue;
      const outputs: Flow[] = [];
      if (advanceTo !== undefined && node.operator.advance !== undefined) {
        const flow = node.operator.advance(advanceTo);
        if (flow !== undefined && flow.batch.length > 0) outputs.push(flow);
      }
      if (queue !== undefined) {
        pending[i] = undefined;
        for (const { input, flow } of queue) {
          const out = node.operator.process(flow, input);
          if (out !== undefined && out.batch.length > 0) outputs.push(out);
        }
      }
      if (outputs.length === 0) continue;
      for (const flow of outputs) {
        for (const target of node.targets) enqueue(pending, target.node, target.input, flow);
      }
      emitted.set(node.window.name, outputs);
    }
    return emitted;
  }

  shardOf(window: string, batch: Batch, row: number): number {
    const node = this.sourceNode(window);
    return hashRow(batch, this.options.routing.get(node.window.name)!, row) % this.shardCount;
  }

  shardsOf(window: string, batch: Batch): Uint32Array {
    const node = this.sourceNode(window);
    // The hashes are a new array: turned into shards in place.
    const shards = hashRows(batch, this.options.routing.get(node.window.name)!);
    for (let i = 0; i < shards.length; i++) shards[i] = shards[i]! % this.shardCount;
    return shards;
  }

  private checkShard(shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shardCount) {
      throw new MeshError("INVALID_ARGUMENT", `shard ${shard} is out of range 0..${this.shardCount - 1}`);
    }
  }

  snapshot(shard: number): Uint8Array {
    this.checkShard(shard);
    const sections: [string, Uint8Array][] = [];
    for (const node of this.nodes) {
      if (node.operator.snapshot === undefined) continue;
      const out = new ByteWriter();
      if (node.operator.snapshot(shard, out)) sections.push([node.window.name, out.finish()]);
    }
    return encodeSnapshot(this.fingerprint, this.shardCount, shard, sections);
  }

  restore(shard: number, bytes: Uint8Array): void {
    this.checkShard(shard);
    const sections = decodeSnapshot(bytes, this.fingerprint, this.shardCount, shard);
    for (const [name] of sections) {
      const node = this.node(name);
      if (node.operator.restore === undefined) {
        throw new MeshError("FAILED_PRECONDITION", `snapshot holds state for window "${name}", which keeps none`);
      }
    }
    this.drop(shard);
    for (const [name, section] of sections) {
      const input = new ByteReader(section);
      this.node(name).operator.restore!(shard, input);
      if (!input.done) throw new MeshError("DATA_LOSS", `snapshot section of window "${name}" has trailing bytes`);
    }
    this.dirty.delete(shard);
  }

  drop(shard: number): void {
    this.checkShard(shard);
    for (const node of this.nodes) node.operator.drop?.(shard);
    this.dirty.delete(shard);
  }

  dirtyShards(): number[] {
    return [...this.dirty].sort((a, b) => a - b);
  }

  clearDirty(): void {
    this.dirty.clear();
  }

  stateShards(): number[] {
    const shards = new Set<number>();
    for (const node of this.nodes) for (const shard of node.operator.shards?.() ?? []) shards.add(shard);
    return [...shards].sort((a, b) => a - b);
  }

  query(window: string): Batch {
    const node = this.node(window);
    if (node.operator.query === undefined || !node.window.stateful) {
      throw new MeshError("FAILED_PRECONDITION", `window "${window}" keeps no table to query`, { details: { window } });
    }
    return node.operator.query();
  }
}

/** Per node, the flows waiting for it and the input each arrives on. */
type Pending = ({ input: number; flow: Flow }[] | undefined)[];

function enqueue(pending: Pending, node: number, input: number, flow: Flow): void {
  const queue = pending[node];
  if (queue === undefined) pending[node] = [{ input, flow }];
  else queue.push({ input, flow });
}

/** One batch per window from the flows it emitted. */
function batchesOf(emitted: ReadonlyMap<string, readonly Flow[]>): OutputSet {
  const result = new Map<string, Batch>();
  for (const [name, flows] of emitted) result.set(name, concatFlows(flows));
  return result;
}

/** One batch per window from the flows it emitted, with the shard of every row. */
function shardedBatchesOf(emitted: ReadonlyMap<string, readonly Flow[]>): ShardedOutputSet {
  const result = new Map<string, ShardedBatch>();
  for (const [name, flows] of emitted) {
    const batch = concatFlows(flows);
    const shards = new Uint32Array(batch.length);
    let at = 0;
    for (const flow of flows) {
      const vector = flow.shards;
      const n = flow.batch.length;
      if (vector instanceof ArrayShards && vector.shards.length >= n) shards.set(vector.shards.subarray(0, n), at);
      else for (let row = 0; row < n; row++) shards[at + row] = vector.get(row);
      at += n;
    }
    result.set(name, { batch, shards });
  }
  return result;
}

function concatFlows(flows: readonly Flow[]): Batch {
  return flows.length === 1
    ? flows[0]!.batch
    : concatBatches(
        flows[0]!.batch.schema,
        flows.map((flow) => flow.batch),
      );
}

/**
 * Creates an engine for a loaded project.
 * @throws MeshError INVALID_ARGUMENT for bad options (shard count, routing fields).
 */
export function createEngine(model: ProjectModel, options: EngineOptions = {}): Engine {
  return new EngineImpl(model, options);
}
