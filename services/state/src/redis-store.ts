/**
 * The state service's storage: one Lua script per operation over an ioredis client (see
 * scripts.ts for what each does and keys.ts for the layout). Input arrives validated; this
 * layer encodes it, runs the script and turns replies into checkpoints or MeshErrors.
 */

import type { ShardCheckpoint } from "@espmesh/state-client";
import type { NormalizedCommit } from "@espmesh/state-client/internal";
import { deploymentNotFound, type FencedOperation, fencedError } from "@espmesh/state-client/internal";
import { MeshError } from "@espmesh/telemetry";
import type { Redis } from "ioredis";
import { packCommit } from "./commit-pack.js";
import { type DeploymentKeys, deploymentKeys, scriptKeys, WATERMARK_FIELD, WINDOW_FIELD } from "./keys.js";
import { fromRedisError } from "./redis-errors.js";
import { acquireScript, commitScript, dropScript, loadScript, releaseScript } from "./scripts.js";

/** A project and deployment. */
export interface Scope {
  readonly project: string;
  readonly deployment: string;
}

type ScriptArg = string | number | Buffer;
type ScriptFn = (numberOfKeys: number, keys: string[], args: ScriptArg[]) => Promise<unknown>;

interface StateScripts {
  espmeshStateAcquireBuffer: ScriptFn;
  espmeshStateCommitBuffer: ScriptFn;
  espmeshStateLoadBuffer: ScriptFn;
  espmeshStateReleaseBuffer: ScriptFn;
  espmeshStateDropBuffer: ScriptFn;
}

/** Where the state service keeps shard checkpoints: Redis (one atomic script per call) or memory. */
export interface StateStore {
  acquire(scope: Scope, shards: readonly number[], owner: string, epoch: number): Promise<ShardCheckpoint[]>;
  commit(scope: Scope, commit: NormalizedCommit): Promise<void>;
  load(scope: Scope, shards: readonly number[]): Promise<ShardCheckpoint[]>;
  release(scope: Scope, shards: readonly number[], owner: string, epoch: number): Promise<void>;
  drop(scope: Scope): Promise<void>;
}

function status(reply: unknown): string {
  const first = Array.isArray(reply) ? reply[0] : undefined;
  return Buffer.isBuffer(first) ? first.toString() : String(first);
}

function toCheckpoint(shard: number, entry: unknown): ShardCheckpoint {
  const [ownership, fields] = entry as [Buffer, Buffer[]];
  const text = ownership.toString();
  const at = text.indexOf(":");
  const windows = new Map<string, Uint8Array>();
  const watermarks = new Map<string, number>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = (fields[i] as Buffer).toString();
    const value = fields[i + 1] as Buffer;
    if (field.startsWith(WINDOW_FIELD)) windows.set(field.slice(WINDOW_FIELD.length), value);
    else if (field.startsWith(WATERMARK_FIELD))
      watermarks.set(field.slice(WATERMARK_FIELD.length), Number(value.toString()));
  }
  return {
    shard,
    windows,
    watermarks,
    epoch: at < 0 ? 0 : Number(text.slice(0, at)),
    owner: at < 0 ? "" : text.slice(at + 1),
  };
}

class Store implements StateStore {
  readonly #redis: Redis & StateScripts;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    redis.defineCommand("espmeshStateAcquire", { lua: acquireScript });
    redis.defineCommand("espmeshStateCommit", { lua: commitScript });
    redis.defineCommand("espmeshStateLoad", { lua: loadScript, readOnly: true });
    redis.defineCommand("espmeshStateRelease", { lua: releaseScript });
    redis.defineCommand("espmeshStateDrop", { lua: dropScript });
    this.#redis = redis as Redis & StateScripts;
    this.#prefix = prefix;
  }

  #keys(scope: Scope): DeploymentKeys {
    return deploymentKeys(this.#prefix, scope.project, scope.deployment);
  }

  async #run(operation: string, call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await call();
    } catch (error) {
      throw fromRedisError(error, operation);
    }
  }

  /** Throws for a NOT_FOUND or FENCED reply; `shards` are the shards of the call. */
  #check(reply: unknown, operation: FencedOperation | "load" | "drop", scope: Scope, owner = "", epoch = 0): void {
    const code = status(reply);
    if (code === "OK") return;
    if (code === "NOT_FOUND") throw deploymentNotFound(scope);
    if (code === "FENCED") {
      const [, shard, storedEpoch, storedOwner] = (reply as Buffer[]).map((part) => part.toString());
      throw fencedError(
        operation as FencedOperation,
        scope,
        Number(shard),
        { epoch: Number(storedEpoch), owner: storedOwner ?? "" },
        owner,
        epoch,
      );
    }
    throw new MeshError("INTERNAL", `unexpected reply ${code} of the ${operation} script`);
  }

  async acquire(scope: Scope, shards: readonly number[], owner: string, epoch: number): Promise<ShardCheckpoint[]> {
    const keys = scriptKeys(this.#keys(scope), shards);
    const reply = await this.#run("acquire", () =>
      this.#redis.espmeshStateAcquireBuffer(keys.length, keys, [owner, String(epoch), ...shards]),
    );
    this.#check(reply, "acquire", scope, owner, epoch);
    return shards.map((shard, i) => toCheckpoint(shard, (reply as unknown[])[i + 1]));
  }

  async commit(scope: Scope, commit: NormalizedCommit): Promise<void> {
    const keys = this.#keys(scope);
    const reply = await this.#run("commit", () =>
      this.#redis.espmeshStateCommitBuffer(2, [keys.marker, keys.owners], packCommit(commit, keys.shardPrefix)),
    );
    this.#check(reply, "commit", scope, commit.owner, commit.epoch);
  }

  async load(scope: Scope, shards: readonly number[]): Promise<ShardCheckpoint[]> {
    const keys = scriptKeys(this.#keys(scope), shards);
    const reply = await this.#run("load", () => this.#redis.espmeshStateLoadBuffer(keys.length, keys, [...shards]));
    this.#check(reply, "load", scope);
    return shards.map((shard, i) => toCheckpoint(shard, (reply as unknown[])[i + 1]));
  }

  async release(scope: Scope, shards: readonly number[], owner: string, epoch: number): Promise<void> {
    const keys = scriptKeys(this.#keys(scope), shards);
    const reply = await this.#run("release", () =>
      this.#redis.espmeshStateReleaseBuffer(keys.length, keys, [owner, String(epoch), ...shards]),
    );
    this.#check(reply, "release", scope, owner, epoch);
  }

  async drop(scope: Scope): Promise<void> {
    const keys = this.#keys(scope);
    const reply = await this.#run("drop", () =>
      this.#redis.espmeshStateDropBuffer(2, [keys.marker, keys.owners], [keys.shardPrefix]),
    );
    this.#check(reply, "drop", scope);
  }
}

/** A StateStore over `redis`, with every key under `prefix`. */
export function createRedisStateStore(redis: Redis, prefix: string): StateStore {
  return new Store(redis, prefix);
}
