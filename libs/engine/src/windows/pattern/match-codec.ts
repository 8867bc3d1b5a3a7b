import { MeshError } from "@espmesh/telemetry";
import type { ByteReader, ByteWriter } from "../../runtime/bytes.js";
import type { PartialMatch, PatternMachine } from "./pattern-machine.js";
import type { Scalar } from "./scalar-eval.js";

/** Writes a partial match: creation order, last time, node states, variables (bound or not), captured fields. */
export function writeMatch(out: ByteWriter, match: PartialMatch): void {
  out.f64(match.seq);
  out.f64(match.last);
  const state = match.state;
  out.u32(state.length);
  for (let i = 0; i < state.length; i++) out.f64(state[i]!);
  out.u32(match.vars.length);
  for (const value of match.vars) {
    if (value === undefined) out.u8(0);
    else {
      out.u8(1);
      out.value(value);
    }
  }
  out.u32(match.captured.length);
  for (const values of match.captured) {
    if (values === undefined) out.u8(0);
    else {
      out.u8(1);
      out.values(values);
    }
  }
}

/**
 * Reads a partial match written by {@link writeMatch} into a fresh match of the machine's pattern.
 * @throws MeshError DATA_LOSS when the snapshot does not fit the pattern (the project changed).
 */
export function readMatch(input: ByteReader, machine: PatternMachine, shard: number): PartialMatch {
  const match = machine.create(shard, 0);
  match.seq = input.f64();
  match.last = input.f64();
  const mismatch = (what: string): MeshError =>
    new MeshError("DATA_LOSS", `pattern "${machine.plan.name}" snapshot does not fit the pattern: ${what} differ`);
  const states = input.u32();
  if (states !== match.state.length) throw mismatch("node counts");
  for (let i = 0; i < states; i++) match.state[i] = input.f64();
  const vars = input.u32();
  if (vars !== match.vars.length) throw mismatch("variable counts");
  for (let i = 0; i < vars; i++) match.vars[i] = input.u8() === 1 ? (input.value() as Scalar) : undefined;
  const events = input.u32();
  if (events !== match.captured.length) throw mismatch("event counts");
  for (let i = 0; i < events; i++) match.captured[i] = input.u8() === 1 ? input.values() : undefined;
  match.deadline = machine.deadlineOf(match);
  return match;
}
