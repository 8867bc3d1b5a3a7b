import { invalidArgument } from "./errors.js";
import { Opcode, type OpcodeName } from "./types.js";

/** Opcode names by opcode number minus one. */
export const OPCODE_NAMES: readonly OpcodeName[] = ["insert", "update", "delete", "upsert"];

const byName = new Map<string, Opcode>([
  ["insert", Opcode.Insert],
  ["update", Opcode.Update],
  ["delete", Opcode.Delete],
  ["upsert", Opcode.Upsert],
  // The one-letter flags of ESP CSV files.
  ["i", Opcode.Insert],
  ["u", Opcode.Update],
  ["d", Opcode.Delete],
  ["p", Opcode.Upsert],
]);

/** Whether a number is a valid opcode (1..4). */
export function isOpcode(op: unknown): op is Opcode {
  return typeof op === "number" && (op === 1 || op === 2 || op === 3 || op === 4);
}

/**
 * The name of an opcode number.
 * @throws MeshError INVALID_ARGUMENT when `op` is not 1 (insert), 2 (update), 3 (delete) or 4 (upsert).
 */
export function opcodeName(op: number): OpcodeName {
  const name = isOpcode(op) ? OPCODE_NAMES[op - 1] : undefined;
  if (name === undefined) throw invalidArgument(`invalid opcode ${op}: expected 1 (insert) to 4 (upsert)`);
  return name;
}

/**
 * The opcode of a name: `insert`, `update`, `delete`, `upsert`, case-insensitive, or the ESP CSV
 * flags `i`, `u`, `d`, `p`.
 * @throws MeshError INVALID_ARGUMENT for any other name.
 */
export function opcodeOf(name: string): Opcode {
  const op = typeof name === "string" ? byName.get(name.toLowerCase()) : undefined;
  if (op === undefined) {
    throw invalidArgument(`invalid opcode ${JSON.stringify(name)}: expected insert, update, delete or upsert`);
  }
  return op;
}
