import { MeshError } from "@espmesh/telemetry";
import type { ProjectModel } from "../model/project-model.js";
import { ByteReader, ByteWriter } from "../runtime/bytes.js";

/**
 * Shard snapshot format, version 1 (little-endian):
 *
 * ```
 * "ESPS"  magic (4 bytes)
 * u8      format version (1)
 * u32     shard count
 * u32     shard
 * string  project fingerprint (u32 length + UTF-8): names, kinds, schemas and inputs of windows
 * u32     number of sections
 * per section: string window name, bytes (u32 length + the window operator's own encoding)
 * ```
 *
 * Only windows holding state for the shard write a section. Values inside sections are tagged
 * (null, f64, string, true, false, bytes).
 */
export const SNAPSHOT_VERSION = 1;
const MAGIC = [0x45, 0x53, 0x50, 0x53];

/** A stable fingerprint of what a project's state depends on. */
export function projectFingerprint(model: ProjectModel): string {
  const text = model.windows
    .map((w) => `${w.name}|${w.kind}|${w.schema.fingerprint}|${w.inputs.join(",")}|${w.stateful}`)
    .join(";");
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Writes a shard snapshot from its sections. */
export function encodeSnapshot(
  fingerprint: string,
  shardCount: number,
  shard: number,
  sections: readonly [string, Uint8Array][],
): Uint8Array {
  const out = new ByteWriter();
  for (const byte of MAGIC) out.u8(byte);
  out.u8(SNAPSHOT_VERSION);
  out.u32(shardCount);
  out.u32(shard);
  out.string(fingerprint);
  out.u32(sections.length);
  for (const [name, bytes] of sections) {
    out.string(name);
    out.bytes(bytes);
  }
  return out.finish();
}

/**
 * Reads a shard snapshot's sections, checking it belongs to this project, shard count and shard.
 * @throws MeshError INVALID_ARGUMENT for bytes that are not a snapshot, FAILED_PRECONDITION for a
 * snapshot of another project, shard count or shard, DATA_LOSS when truncated.
 */
export function decodeSnapshot(
  bytes: Uint8Array,
  fingerprint: string,
  shardCount: number,
  shard: number,
): [string, Uint8Array][] {
  const input = new ByteReader(bytes);
  for (const byte of MAGIC) {
    if (input.u8() !== byte) throw new MeshError("INVALID_ARGUMENT", "not an espmesh shard snapshot (bad magic)");
  }
  const version = input.u8();
  if (version !== SNAPSHOT_VERSION) {
    throw new MeshError(
      "FAILED_PRECONDITION",
      `snapshot format version ${version} is not supported (expected ${SNAPSHOT_VERSION})`,
    );
  }
  const count = input.u32();
  const from = input.u32();
  const project = input.string();
  if (count !== shardCount) {
    throw new MeshError(
      "FAILED_PRECONDITION",
      `snapshot was taken with ${count} shards, this engine has ${shardCount}`,
    );
  }
  if (from !== shard) throw new MeshError("FAILED_PRECONDITION", `snapshot is of shard ${from}, not ${shard}`);
  if (project !== fingerprint) {
    throw new MeshError(
      "FAILED_PRECONDITION",
      "snapshot was taken from a different project (windows, schemas or wiring changed)",
    );
  }
  const sections: [string, Uint8Array][] = [];
  const n = input.u32();
  for (let i = 0; i < n; i++) sections.push([input.string(), input.bytes()]);
  return sections;
}
