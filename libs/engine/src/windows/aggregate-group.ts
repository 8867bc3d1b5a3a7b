import type { Value } from "@espmesh/events";
import type { Vec } from "../expr/vec.js";
import type { ByteReader, ByteWriter } from "../runtime/bytes.js";
import { compareValues, type TableKey } from "../runtime/values.js";
import type { AggregateCall } from "./aggregate-calls.js";
import type { GroupSlots } from "./aggregate-slots.js";

/** Number of running numbers each call keeps per group. */
export const SLOTS = 3;

/** One input event held by a group (when the window keeps events): its argument values and arrival time. */
export interface Member {
  args: Value[];
  time: number;
}

/**
 * The state of one group: running numbers per call (`num`), running values per call (`ext`: the
 * min/max, first, last, lag ring or concatenation), the held events (`members`, when kept) and the
 * row last emitted (`output`).
 */
export class Group {
  count = 0;
  /** Running numbers, SLOTS per call (a view of its slot once a window adopts it). */
  num: Float64Array;
  /** Its slot in the window's {@link GroupSlots}, or -1. */
  slot = -1;
  readonly ext: Value[][];
  members: Map<TableKey, Member> | undefined;
  output: Value[] | undefined;
  epoch = -1;

  constructor(
    readonly key: TableKey,
    readonly keyValues: Value[],
    readonly shard: number,
    calls: number,
    keepMembers: boolean,
  ) {
    this.num = new Float64Array(calls * SLOTS);
    this.ext = Array.from({ length: calls }, () => []);
    this.members = keepMembers ? new Map() : undefined;
  }
}

function numberOf(value: Value): number {
  return typeof value === "boolean" ? (value ? 1 : 0) : (value as number);
}

/** Adds (sign 1) or retracts (sign -1) one event's arguments to an additive call. */
export function applyAdditive(
  call: AggregateCall,
  group: Group,
  slot: number,
  args: readonly Value[],
  offset: number,
  sign: number,
): void {
  const num = group.num;
  const base = slot * SLOTS;
  const x = args[offset] ?? null;
  switch (call.name) {
    case "count":
      if (call.args.length === 0 || x !== null) num[base]! += sign;
      return;
    case "sum":
    case "ave":
      if (x === null) return;
      num[base]! += sign * numberOf(x);
      num[base + 1]! += sign;
      return;
    case "std": {
      if (x === null) return;
      const v = numberOf(x);
      num[base]! += sign * v;
      num[base + 1]! += sign * v * v;
      num[base + 2]! += sign;
      return;
    }
    case "wave": {
      const w = args[offset] ?? null;
      const v = args[offset + 1] ?? null;
      if (w === null || v === null) return;
      num[base]! += sign * numberOf(w) * numberOf(v);
      num[base + 1]! += sign * numberOf(w);
      return;
    }
    default:
      return;
  }
}

/** Adds one event to a non-additive call of a group that keeps no events (insert-only input). */
export function applyRunning(call: AggregateCall, group: Group, slot: number, x: Value): void {
  const ext = group.ext[slot]!;
  switch (call.name) {
    case "min":
    case "max": {
      if (x === null) return;
      if (typeof x === "number") {
        // Numbers live in the running numbers (no boxing): [value, has-value].
        const num = group.num;
        const base = slot * SLOTS;
        if (num[base + 1] === 0 || (call.name === "min" ? x < num[base]! : x > num[base]!)) num[base] = x;
        num[base + 1] = 1;
        return;
      }
      if (ext.length === 0) ext.push(x);
      else if (call.name === "min" ? compareValues(x, ext[0]!) < 0 : compareValues(x, ext[0]!) > 0) ext[0] = x;
      return;
    }
    case "first":
      if (group.num[slot * SLOTS] === 0) {
        ext[0] = x;
        group.num[slot * SLOTS] = 1;
      }
      return;
    case "last":
      ext[0] = x;
      return;
    case "lag":
      ext.push(x);
      if (ext.length > call.lag + 1) ext.shift();
      return;
    case "cat":
      if (x === null) return;
      ext[0] = ext.length === 0 ? textOf(x) : `${ext[0] as string}${call.separator}${textOf(x)}`;
      return;
    default:
      return;
  }
}

function textOf(value: Value): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return String(value);
}

/** The result of an additive call from its running numbers. */
function additiveResult(call: AggregateCall, num: Float64Array, base: number): Value {
  switch (call.name) {
    case "count":
      return num[base]!;
    case "sum":
      return num[base + 1]! > 0 ? num[base]! : null;
    case "ave":
      return num[base + 1]! > 0 ? num[base]! / num[base + 1]! : null;
    case "std": {
      const n = num[base + 2]!;
      if (n < 2) return null;
      const variance = (num[base + 1]! - (num[base]! * num[base]!) / n) / (n - 1);
      return Math.sqrt(Math.max(0, variance));
    }
    case "wave":
      return num[base + 1]! !== 0 ? num[base]! / num[base + 1]! : null;
    default:
      return null;
  }
}

/** The result of a call from running values (insert-only groups). */
function runningResult(call: AggregateCall, group: Group, slot: number): Value {
  const ext = group.ext[slot]!;
  switch (call.name) {
    case "lag":
      return ext.length > call.lag ? (ext[ext.length - 1 - call.lag] ?? null) : null;
    case "min":
    case "max":
      return group.num[slot * SLOTS + 1] === 1 ? group.num[slot * SLOTS]! : (ext[0] ?? null);
    default:
      return ext[0] ?? null;
  }
}

/** Recomputes a call from a group's held events (in arrival order), within its period if timed. */
function recompute(call: AggregateCall, group: Group, now: number): Value {
  const members = group.members!;
  const since = call.timed ? now - call.period : Number.NEGATIVE_INFINITY;
  if (call.additive || ["sum", "count", "ave", "std", "wave"].includes(call.name)) {
    const scratch = new Float64Array(SLOTS);
    const holder = { num: scratch } as unknown as Group;
    for (const member of members.values())
      if (member.time > since) applyAdditive(call, holder, 0, member.args, call.argOffset, 1);
    return additiveResult(call, scratch, 0);
  }
  const holder = { num: new Float64Array(SLOTS), ext: [[]] } as unknown as Group;
  for (const member of members.values()) {
    if (member.time > since) applyRunning(call, holder, 0, member.args[call.argOffset] ?? null);
  }
  return runningResult(call, holder, 0);
}

/** The result of every call for a group. */
export function groupResults(calls: readonly AggregateCall[], group: Group, now: number): Value[] {
  return calls.map((call, slot) => {
    if (call.additive) return additiveResult(call, group.num, slot * SLOTS);
    if (group.members !== undefined) return recompute(call, group, now);
    return runningResult(call, group, slot);
  });
}

/**
 * Where the events of a batch go, for column passes (insert-only input, no events kept): event
 * `k` belongs to `groups[k]`, whose running numbers start at `offsets[k]` of `slots.state`.
 */
export interface RowGroups {
  readonly groups: readonly Group[];
  readonly offsets: Int32Array;
  readonly slots: GroupSlots;
}

/** Adds a whole column of argument values to the events' groups. */
export function addColumn(call: AggregateCall, slot: number, target: RowGroups, args: readonly Vec[], n: number): void {
  const base = slot * SLOTS;
  const x = args[0];
  const state = target.slots.state;
  const offsets = target.offsets;
  if (call.name === "count" && x === undefined) {
    for (let k = 0; k < n; k++) state[offsets[k]! + base]! += 1;
    return;
  }
  if ((call.name === "sum" || call.name === "ave") && !x!.anyNull) {
    const values = x!.num;
    for (let k = 0; k < n; k++) {
      const at = offsets[k]! + base;
      state[at]! += values[k]!;
      state[at + 1]! += 1;
    }
    return;
  }
  if ((call.name === "max" || call.name === "min") && x!.cls !== "string" && !x!.anyNull) {
    const values = x!.num;
    if (call.name === "max") maxInto(state, offsets, base, values, null, n);
    else minInto(state, offsets, base, values, null, n);
    return;
  }
  const groups = target.groups;
  const flat: Value[] = new Array(call.args.length);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < args.length; i++) flat[i] = args[i]!.valueAt(k);
    const group = groups[k]!;
    if (call.additive) applyAdditive(call, group, slot, flat, 0, 1);
    else applyRunning(call, group, slot, flat[0] ?? null);
  }
}

/**
 * Adds a column of numbers without nulls, read in place, to a sum, ave, min or max call: event
 * `k` is `values[rows[k]]` (`values[k]` without rows). Returns false, adding nothing, for other
 * calls.
 */
export function addNumberColumn(
  call: AggregateCall,
  slot: number,
  target: RowGroups,
  values: Float64Array,
  rows: Uint32Array | null,
  n: number,
): boolean {
  const base = slot * SLOTS;
  const state = target.slots.state;
  const offsets = target.offsets;
  switch (call.name) {
    case "sum":
    case "ave":
      for (let k = 0; k < n; k++) {
        const at = offsets[k]! + base;
        state[at]! += values[rows === null ? k : rows[k]!]!;
        state[at + 1]! += 1;
      }
      return true;
    case "max":
      maxInto(state, offsets, base, values, rows, n);
      return true;
    case "min":
      minInto(state, offsets, base, values, rows, n);
      return true;
    default:
      return false;
  }
}

/** Running maximum as [value, has-value] at `offsets[k] + base`. */
function maxInto(
  state: Float64Array,
  offsets: Int32Array,
  base: number,
  values: Float64Array,
  rows: Uint32Array | null,
  n: number,
): void {
  for (let k = 0; k < n; k++) {
    const at = offsets[k]! + base;
    const v = values[rows === null ? k : rows[k]!]!;
    if (state[at + 1] === 0 || v > state[at]!) {
      state[at] = v;
      state[at + 1] = 1;
    }
  }
}

/** Running minimum as [value, has-value] at `offsets[k] + base`. */
function minInto(
  state: Float64Array,
  offsets: Int32Array,
  base: number,
  values: Float64Array,
  rows: Uint32Array | null,
  n: number,
): void {
  for (let k = 0; k < n; k++) {
    const at = offsets[k]! + base;
    const v = values[rows === null ? k : rows[k]!]!;
    if (state[at + 1] === 0 || v < state[at]!) {
      state[at] = v;
      state[at + 1] = 1;
    }
  }
}

/** Writes a group (for a shard snapshot). */
export function writeGroup(out: ByteWriter, group: Group): void {
  out.values(group.keyValues);
  out.f64(group.count);
  out.u32(group.num.length);
  for (const value of group.num) out.f64(value);
  out.u32(group.ext.length);
  for (const ext of group.ext) out.values(ext);
  out.u8(group.output === undefined ? 0 : 1);
  if (group.output !== undefined) out.values(group.output);
  out.u32(group.members?.size ?? 0);
  for (const [key, member] of group.members ?? []) {
    out.value(key);
    out.f64(member.time);
    out.values(member.args);
  }
}

/** Reads a group written by {@link writeGroup}. */
export function readGroup(
  input: ByteReader,
  shard: number,
  calls: number,
  keepMembers: boolean,
  keyOf: (values: readonly Value[]) => TableKey,
): Group {
  const keyValues = input.values();
  const group = new Group(keyOf(keyValues), keyValues, shard, calls, keepMembers);
  group.count = input.f64();
  const slots = input.u32();
  for (let i = 0; i < slots; i++) {
    const value = input.f64();
    if (i < group.num.length) group.num[i] = value;
  }
  const exts = input.u32();
  for (let i = 0; i < exts; i++) {
    const values = input.values();
    if (i < group.ext.length) group.ext[i] = values;
  }
  if (input.u8() === 1) group.output = input.values();
  const members = input.u32();
  for (let i = 0; i < members; i++) {
    const key = input.value() as TableKey;
    const time = input.f64();
    const args = input.values();
    group.members?.set(key, { args, time });
  }
  return group;
}
