import type { StateBackend } from "@espmesh/state-client";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import type { EngineHost } from "./engine-host.js";
import type { ShardLedger } from "./shard-ledger.js";

interface ShardCommit {
  readonly shard: number;
  readonly windows: Map<string, Uint8Array>;
  readonly watermarks: Record<string, number>;
  readonly deleteShard: boolean;
}

/** What one checkpoint did. */
export interface CommitOutcome {
  /** Shards written. */
  readonly shards: number;
  readonly bytes: number;
  /** Shards another owner took over (stale epoch): they were dropped here. */
  readonly fenced: readonly number[];
}

/**
 * Outputs that must be stored before the state that produced them is committed (output bindings):
 * once a shard's watermark is checkpointed, a replacement worker never replays what it covers, so
 * the outputs of everything a checkpoint holds must already be stored.
 */
export interface OutputBarrier {
  /** A position covering every output queued so far. */
  mark(): number;
  /** Resolves when every output up to `mark` is stored; rejects when one could not be (retried on the next call). */
  flush(mark: number): Promise<void>;
}

/** Options of {@link createCommitter}. */
export interface CommitterOptions {
  readonly owner: string;
  readonly engine: EngineHost;
  readonly ledger: ShardLedger;
  /** Undefined when the deployment keeps state only in the worker (`state: none`). */
  readonly state: StateBackend | undefined;
  readonly logger?: Logger;
  /** Outputs to store before each checkpoint is written. @default none */
  readonly outputs?: OutputBarrier;
  /** Called after every successful commit with its latency. */
  readonly onCommit?: (outcome: CommitOutcome, millis: number) => void;
}

/**
 * Checkpoints the worker's dirty shards (state the engine changed, watermarks the ledger moved) to
 * the state backend, one commit at a time (commits of one worker never overtake each other). A shard whose commit failed stays dirty and goes out
 * with the next commit; a shard fenced by a newer owner is dropped.
 */
export interface Committer {
  /** Commits every dirty owned shard plus `force`; resolves when written, rejects when not. */
  commit(force?: readonly number[]): Promise<CommitOutcome>;
}

/** Creates a {@link Committer}. */
export function createCommitter(options: CommitterOptions): Committer {
  const { owner, engine, ledger, state } = options;
  const logger = options.logger ?? noopLogger;
  const pending = new Set<number>();
  let chain: Promise<unknown> = Promise.resolve();

  const commitOnce = async (force: readonly number[]): Promise<CommitOutcome> => {
    for (const shard of engine.takeDirty()) pending.add(shard);
    for (const shard of ledger.takeAdvanced()) pending.add(shard);
    for (const shard of force) pending.add(shard);
    const shards = [...pending].filter((shard) => ledger.owns(shard));
    pending.clear();
    // Snapshots and the output mark are taken together, before anything is awaited: every output
    // of what the snapshots hold is queued by then, and stored before they are written.
    const mark = options.outputs?.mark();
    if (!state || shards.length === 0) {
      if (mark !== undefined) await options.outputs!.flush(mark);
      return { shards: 0, bytes: 0, fenced: [] };
    }

    // One commit per epoch: fencing is checked per shard against the epoch it is owned under.
    const byEpoch = new Map<number, ShardCommit[]>();
    for (const shard of shards) {
      const epoch = ledger.epochOf(shard)!;
      const commit = {
        shard,
        windows: engine.snapshot(shard),
        watermarks: ledger.watermarksOf(shard),
        deleteShard: false,
      };
      const group = byEpoch.get(epoch);
      if (group) group.push(commit);
      else byEpoch.set(epoch, [commit]);
    }
    if (mark !== undefined) {
      try {
        await options.outputs!.flush(mark);
      } catch (error) {
        for (const shard of shards) pending.add(shard);
        throw MeshError.from(error);
      }
    }
    let written = 0;
    let bytes = 0;
    const fenced: number[] = [];
    const started = performance.now();
    const groups = [...byEpoch];
    for (const [index, [epoch, commits]] of groups.entries()) {
      const group = commits.map((commit) => commit.shard);
      try {
        const result = await state.commit({ owner, epoch, shards: commits });
        written += result.shards;
        bytes += result.bytes;
      } catch (error) {
        const failure = MeshError.from(error);
        if (failure.code === "FAILED_PRECONDITION") {
          logger.warn(
            { shards: group, epoch, reason: failure.message },
            "shards fenced by a newer owner; dropping them",
          );
          for (const shard of group) {
            engine.drop(shard);
            ledger.release(shard);
            fenced.push(shard);
          }
          continue;
        }
        // This group and the ones not tried yet go out with the next commit.
        for (const [, later] of groups.slice(index)) for (const commit of later) pending.add(commit.shard);
        throw failure;
      }
    }
    const outcome = { shards: written, bytes, fenced };
    options.onCommit?.(outcome, performance.now() - started);
    return outcome;
  };

  return {
    commit(force = []) {
      const next = chain.then(() => commitOnce(force));
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
