import { readFile } from "node:fs/promises";

/** Reads a process's cumulative CPU time (user + system) in seconds; undefined when it is gone. */
export type CpuTimeReader = (pid: number) => Promise<number | undefined>;

/**
 * A {@link CpuTimeReader} over Linux `/proc/<pid>/stat` (utime + stime, fields 14 and 15).
 * @param clockTicks clock ticks per second (`getconf CLK_TCK`). @default 100
 */
export function createProcCpuTimeReader(clockTicks = 100): CpuTimeReader {
  return async (pid) => {
    let text: string;
    try {
      text = await readFile(`/proc/${pid}/stat`, "utf8");
    } catch {
      // The process exited (or /proc is absent): no reading.
      return undefined;
    }
    // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    if (!Number.isFinite(user) || !Number.isFinite(system)) return undefined;
    return (user + system) / clockTicks;
  };
}

interface Reading {
  cpuSeconds: number;
  atMs: number;
}

/**
 * CPU utilisation per process between two readings, in percent of one core (100 = one core
 * busy). A process is reported from its second reading on.
 */
export class CpuMeter {
  readonly #read: CpuTimeReader;
  readonly #now: () => number;
  #previous = new Map<number, Reading>();

  constructor(read: CpuTimeReader = createProcCpuTimeReader(), now: () => number = Date.now) {
    this.#read = read;
    this.#now = now;
  }

  /** Reads every pid; returns the utilisation of those read before too. */
  async measure(pids: readonly number[]): Promise<Map<number, number>> {
    const atMs = this.#now();
    const readings = await Promise.all(pids.map(async (pid) => [pid, await this.#read(pid)] as const));
    const next = new Map<number, Reading>();
    const utilization = new Map<number, number>();
    for (const [pid, cpuSeconds] of readings) {
      if (cpuSeconds === undefined) continue;
      next.set(pid, { cpuSeconds, atMs });
      const before = this.#previous.get(pid);
      if (before === undefined || atMs <= before.atMs) continue;
      const percent = ((cpuSeconds - before.cpuSeconds) * 1000 * 100) / (atMs - before.atMs);
      utilization.set(pid, Math.max(0, percent));
    }
    this.#previous = next;
    return utilization;
  }
}
