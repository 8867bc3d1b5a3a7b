/**
 * Test support (not exported): a redis-server that keeps its data across a crash (AOF with `appendfsync always`,
 * so every acknowledged write is on disk). The harness's `startRedis()` runs without persistence
 * and starts empty after a restart, which cannot show that acknowledged commits survive a
 * restart. Same port and data directory across `kill()`/`start()`; `stop()` removes it all.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, freePort, waitFor } from "@espmesh/testing";
import { Redis } from "ioredis";

/** A crash-safe throwaway redis-server on 127.0.0.1. */
export interface DurableRedis {
  readonly url: string;
  readonly port: number;
  /** Kills the server with SIGKILL (a crash: only what was fsynced survives). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it serves commands. */
  start(): Promise<void>;
  /** Kills it and removes its data directory. */
  stop(): Promise<void>;
}

const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

async function answers(port: number): Promise<boolean> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}

/** Starts a durable redis-server in a new temp dir on a free port. */
export async function startDurableRedis(): Promise<DurableRedis> {
  const binary = findBinary("redis-server");
  const directory = await mkdtemp(join(tmpdir(), "espmesh-state-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
    alive.delete(running);
  };
  const start = async () => {
    if (child) return;
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", ""];
    args.push("--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile", "");
    child = spawn(binary, args, { cwd: directory, stdio: "ignore" });
    alive.add(child);
    await waitFor(() => answers(port), { timeoutMs: 10_000, message: `durable redis-server on port ${port}` });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    stop: async () => {
      await kill();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
