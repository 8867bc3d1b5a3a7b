import type { Column, Value } from "@espmesh/events";
import type { Vec } from "../../expr/vec.js";
import type { TableKey } from "../../runtime/values.js";
import { valueAt } from "../../runtime/values.js";
import { AND, FBY, LEAF, NOT, type PatternPlan } from "./pattern-plan.js";
import type { Scalar, ScalarEnv } from "./scalar-eval.js";

/** Status of a node of a partial match. */
export const IDLE = 0;
export const ACTIVE = 1;
export const DONE = 2;
export const FAILED = 3;

/**
 * A partial match of a pattern: per tree node a status, the time of the first event it consumed
 * (its bound runs from there) and, for `fby`, the position of the operand it waits for; the
 * variables bound so far; the fields captured from each matched event.
 */
export class PartialMatch {
  /** Per node: [status, start, position]. */
  readonly state: number[];
  readonly vars: (Scalar | undefined)[];
  readonly captured: (Value[] | undefined)[];
  /** Time of the last event it consumed. */
  last = Number.NEGATIVE_INFINITY;
  /** The earliest time bound of its active operators (Infinity when none). */
  deadline = Number.POSITIVE_INFINITY;
  alive = true;
  /** Creation order across the window (kept in snapshots). */
  seq = 0;
  /** Neighbours in the list of matches of its shard (see `MatchStore`). */
  prev: PartialMatch | undefined = undefined;
  next: PartialMatch | undefined = undefined;
  /** Whether it is in its shard's list. */
  listed = false;

  /** A fresh match shaped by the templates of a {@link PatternMachine}. */
  constructor(
    readonly shard: number,
    public key: TableKey,
    state: readonly number[],
    vars: readonly undefined[],
    captured: readonly undefined[],
  ) {
    this.state = state.slice();
    this.vars = vars.slice();
    this.captured = captured.slice();
  }
}

/** One input event as the machine sees it. */
export interface Occurrence {
  input: number;
  columns: readonly Column[];
  row: number;
  time: number;
  /** Per event of the pattern: the result of its column-wise conditions (undefined: none). */
  readonly pass: (Vec | undefined)[];
  /** Per event of the pattern: whether it reads this input. */
  readonly applies: boolean[];
}

function same(a: Scalar | undefined, b: Scalar): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return false;
}

/** Whether row `k` of a condition result is true. */
export function passes(vec: Vec | undefined, k: number): boolean {
  return vec === undefined || (vec.num[k] !== 0 && !(vec.anyNull && vec.nulls[k] === 1));
}

/**
 * Runs the partial matches of one pattern: offers them events and lets time pass. Matching is
 * deterministic and does not branch: a partial match takes the first event that fits the node it
 * waits for; every event that fits a first node starts a new partial match.
 */
export class PatternMachine {
  private readonly env: ScalarEnv = { columns: [], row: 0, fields: [], vars: [] };
  /** Variables bound while testing an event, undone when it does not fit. */
  private readonly tentative: Int32Array;

  private readonly stateTemplate: number[];
  private readonly varsTemplate: undefined[];
  private readonly capturedTemplate: undefined[];
  /** The events of a root `fby` over events only (the common shape), else undefined. */
  private readonly sequence: Int32Array | undefined;
  private readonly sequenceNodes: Int32Array | undefined;

  constructor(readonly plan: PatternPlan) {
    const root = plan.nodes[0]!;
    if (root.kind === FBY && root.children.every((child) => plan.nodes[child]!.kind === LEAF)) {
      this.sequenceNodes = Int32Array.from(root.children);
      this.sequence = Int32Array.from(root.children.map((child) => plan.nodes[child]!.event));
    }
    this.tentative = new Int32Array(Math.max(1, plan.vars.length));
    this.stateTemplate = plan.nodes.flatMap(() => [IDLE, Number.NaN, 0]);
    this.varsTemplate = plan.vars.map(() => undefined);
    this.capturedTemplate = plan.events.map(() => undefined);
  }

  /** A fresh partial match. */
  create(shard: number, key: TableKey): PartialMatch {
    return new PartialMatch(shard, key, this.stateTemplate, this.varsTemplate, this.capturedTemplate);
  }

  /** Status of the whole match. */
  status(match: PartialMatch): number {
    return match.state[0]!;
  }

  /**
   * Whether an event fits event `e` given the match's bindings. With `bind`, unbound variables of
   * its `var==field` conditions are bound and its fields captured; without, they fail.
   */
  test(e: number, match: PartialMatch, occ: Occurrence, bind: boolean): boolean {
    if (!occ.applies[e]) return false;
    const row = occ.row;
    if (!passes(occ.pass[e], row)) return false;
    const event = this.plan.events[e]!;
    const vars = match.vars;
    const columns = occ.columns;
    const bindings = event.bindings;
    // Bound variables are tested first; unbound ones are bound only once everything else holds.
    let unbound = 0;
    for (let b = 0; b < bindings.length; b++) {
      const binding = bindings[b]!;
      const column = columns[binding.field]!;
      const nulls = column.nulls;
      if (nulls !== undefined && (nulls[row >>> 3]! & (1 << (row & 7))) !== 0) return false;
      const current = vars[binding.slot];
      if (current === undefined) unbound++;
      else if (!same(current, column.values[row] as Scalar)) return false;
    }
    if (unbound > 0 && !bind) return false;
    const dynamic = event.dynamicPart;
    const env = this.env;
    if (dynamic !== undefined && !event.readsOwnBinds) {
      env.columns = columns;
      env.row = row;
      env.vars = vars;
      const result = dynamic(env);
      if (result === null || result === 0) return false;
    }
    const tentative = this.tentative;
    let bound = 0;
    if (unbound > 0) {
      for (let b = 0; b < bindings.length; b++) {
        const binding = bindings[b]!;
        const value = columns[binding.field]!.values[row] as Scalar;
        const current = vars[binding.slot];
        if (current === undefined) {
          vars[binding.slot] = value;
          tentative[bound++] = binding.slot;
        } else if (!same(current, value)) {
          // The same variable bound twice by this event, to different values.
          for (let k = 0; k < bound; k++) vars[tentative[k]!] = undefined;
          return false;
        }
      }
    }
    if (dynamic !== undefined && event.readsOwnBinds) {
      env.columns = columns;
      env.row = row;
      env.vars = vars;
      const result = dynamic(env);
      if (result === null || result === 0) {
        for (let b = 0; b < bound; b++) vars[tentative[b]!] = undefined;
        return false;
      }
    }
    if (bind) {
      const capture = this.plan.output.captures[e]!;
      if (capture.length > 0) {
        const values = new Array<Value>(capture.length);
        for (let c = 0; c < capture.length; c++) values[c] = valueAt(columns[capture[c]!]!, row);
        match.captured[e] = values;
      }
    }
    return true;
  }

  /** Offers an event to node `id`; returns whether a node consumed it. */
  offer(id: number, match: PartialMatch, occ: Occurrence): boolean {
    if (id === 0 && this.sequence !== undefined)
      return this.offerSequence(match, occ, this.sequence, this.sequenceNodes!);
    const node = this.plan.nodes[id]!;
    const s = match.state;
    const at = id * 3;
    if (node.kind === LEAF) {
      if (!this.test(node.event, match, occ, true)) {
        s[at] = ACTIVE;
        return false;
      }
      s[at] = DONE;
      s[at + 1] = occ.time;
      return true;
    }
    s[at] = ACTIVE;
    const children = node.children;
    let consumed = false;
    if (node.kind === FBY) {
      let p = s[at + 2]!;
      while (p < children.length && this.plan.nodes[children[p]!]!.kind === NOT) {
        if (this.test(this.plan.nodes[children[p]!]!.event, match, occ, false)) {
          s[at] = FAILED;
          return true;
        }
        p++;
      }
      if (p === children.length) return false;
      const child = children[p]!;
      consumed = this.offer(child, match, occ);
      const status = s[child * 3]!;
      if (status === FAILED) s[at] = FAILED;
      else if (status === DONE) this.advanceFby(id, match, p + 1);
    } else if (node.kind === AND) {
      for (const child of children) {
        if (this.plan.nodes[child]!.kind === NOT && this.test(this.plan.nodes[child]!.event, match, occ, false)) {
          s[at] = FAILED;
          return true;
        }
      }
      for (const child of children) {
        if (this.plan.nodes[child]!.kind === NOT || s[child * 3] === DONE) continue;
        consumed = this.offer(child, match, occ);
        if (s[child * 3] === FAILED) {
          s[at] = FAILED;
          return consumed;
        }
        if (consumed) break;
      }
      this.refreshAnd(id, match);
    } else {
      let alive = 0;
      for (const child of children) {
        if (s[child * 3] === FAILED) continue;
        if (this.offer(child, match, occ)) consumed = true;
        const status = s[child * 3]!;
        if (status === DONE) {
          s[at] = DONE;
          break;
        }
        if (status !== FAILED) alive++;
      }
      if (s[at] !== DONE && alive === 0) s[at] = FAILED;
    }
    if (consumed && Number.isNaN(s[at + 1]!)) s[at + 1] = occ.time;
    return consumed;
  }

  /** {@link offer} for a root `fby` over events only: the same steps without the recursion. */
  private offerSequence(match: PartialMatch, occ: Occurrence, events: Int32Array, nodes: Int32Array): boolean {
    const s = match.state;
    s[0] = ACTIVE;
    const p = s[2]!;
    const child = nodes[p]! * 3;
    if (!this.test(events[p]!, match, occ, true)) {
      s[child] = ACTIVE;
      return false;
    }
    s[child] = DONE;
    s[child + 1] = occ.time;
    if (Number.isNaN(s[1]!)) s[1] = occ.time;
    s[2] = p + 1;
    if (p + 1 === events.length) s[0] = DONE;
    return true;
  }

  /** Moves a followed-by to operand `p`: done when no operand is left. */
  private advanceFby(id: number, match: PartialMatch, p: number): void {
    const s = match.state;
    s[id * 3 + 2] = p;
    if (p >= this.plan.nodes[id]!.children.length) s[id * 3] = DONE;
  }

  /** Whether every operand of an `and` that is not negated is done. */
  private andComplete(id: number, match: PartialMatch): boolean {
    for (const child of this.plan.nodes[id]!.children) {
      if (this.plan.nodes[child]!.kind !== NOT && match.state[child * 3] !== DONE) return false;
    }
    return true;
  }

  private refreshAnd(id: number, match: PartialMatch): void {
    const node = this.plan.nodes[id]!;
    if (match.state[id * 3] === ACTIVE && !node.guarded && this.andComplete(id, match)) match.state[id * 3] = DONE;
  }

  /** Whether an active operator only waits for its bound to pass (all that is left is negated). */
  private waitsForBound(id: number, match: PartialMatch): boolean {
    const node = this.plan.nodes[id]!;
    if (node.kind === AND) return node.guarded && this.andComplete(id, match);
    if (node.kind !== FBY) return false;
    const children = node.children;
    for (let p = match.state[id * 3 + 2]!; p < children.length; p++) {
      if (this.plan.nodes[children[p]!]!.kind !== NOT) return false;
    }
    return true;
  }

  /**
   * Lets time pass up to `time` for node `id`: an operator whose bound has passed completes when
   * all it still waited for was negated events, and fails otherwise.
   */
  settle(id: number, match: PartialMatch, time: number): void {
    const s = match.state;
    const at = id * 3;
    if (s[at] !== ACTIVE) return;
    const node = this.plan.nodes[id]!;
    if (node.kind === LEAF || node.kind === NOT) return;
    const children = node.children;
    if (node.kind === FBY) {
      const p = s[at + 2]!;
      if (p < children.length) {
        const child = children[p]!;
        this.settle(child, match, time);
        const status = s[child * 3]!;
        if (status === FAILED) s[at] = FAILED;
        else if (status === DONE) this.advanceFby(id, match, p + 1);
      }
    } else if (node.kind === AND) {
      for (const child of children) {
        this.settle(child, match, time);
        if (s[child * 3] === FAILED) s[at] = FAILED;
      }
      this.refreshAnd(id, match);
    } else {
      let alive = 0;
      for (const child of children) {
        this.settle(child, match, time);
        const status = s[child * 3]!;
        if (status === DONE) s[at] = DONE;
        else if (status !== FAILED) alive++;
      }
      if (s[at] !== DONE && alive === 0) s[at] = FAILED;
    }
    const start = s[at + 1]!;
    if (s[at] === ACTIVE && time > start + node.bound) s[at] = this.waitsForBound(id, match) ? DONE : FAILED;
  }

  /**
   * The earliest bound of the operators still running in the match (Infinity when none): the
   * active operators on the path {@link settle} walks, so alternatives an `or` left behind do
   * not count.
   */
  deadlineOf(match: PartialMatch): number {
    return this.deadlineFrom(0, match);
  }

  private deadlineFrom(id: number, match: PartialMatch): number {
    const s = match.state;
    if (s[id * 3] !== ACTIVE) return Number.POSITIVE_INFINITY;
    const node = this.plan.nodes[id]!;
    if (node.kind === LEAF || node.kind === NOT) return Number.POSITIVE_INFINITY;
    const start = s[id * 3 + 1]!;
    let deadline = Number.isNaN(start) ? Number.POSITIVE_INFINITY : start + node.bound;
    const children = node.children;
    if (node.kind === FBY) {
      const p = s[id * 3 + 2]!;
      if (p < children.length) deadline = Math.min(deadline, this.deadlineFrom(children[p]!, match));
    } else {
      for (const child of children) deadline = Math.min(deadline, this.deadlineFrom(child, match));
    }
    return deadline;
  }
}
