import type { Opcode, Value } from "@espmesh/events";

/** An input event a window rejected. */
export interface BadEvent {
  readonly window: string;
  /** Index of the event in the batch the window received. */
  readonly row: number;
  readonly reason: string;
  readonly opcode: Opcode;
  /** Values of the event's key fields. */
  readonly key: readonly Value[];
}

/** Counts of rejected events, and the most recent ones. */
export interface BadEventCounters {
  readonly total: number;
  /** Count per window. */
  readonly byWindow: ReadonlyMap<string, number>;
  /** The latest bad events, oldest first (bounded). */
  readonly recent: readonly BadEvent[];
}

/** Mutable bad-event counters of an engine. */
export class BadEventLog implements BadEventCounters {
  total = 0;
  readonly byWindow = new Map<string, number>();
  readonly recent: BadEvent[] = [];

  constructor(private readonly limit: number) {}

  add(event: BadEvent): void {
    this.total++;
    this.byWindow.set(event.window, (this.byWindow.get(event.window) ?? 0) + 1);
    if (this.limit === 0) return;
    if (this.recent.length >= this.limit) this.recent.shift();
    this.recent.push(event);
  }
}
