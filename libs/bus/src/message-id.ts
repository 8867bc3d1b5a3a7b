import { MeshError } from "@espmesh/telemetry";

/**
 * The `Nats-Msg-Id` of an output batch, from what produced it: `deployment:window:shard:seq`, the
 * names percent-encoded so that no two different inputs give the same id. A worker that replays a
 * shard after a failure produces the same output sequence for the same events, so its republished
 * batches carry the ids already stored and the stream drops them (within its duplicate window).
 * @param deployment the producing deployment (project deployment name).
 * @param window the output window.
 * @param shard the shard the events were produced for.
 * @param seq the shard's output sequence (per window), a non-negative integer.
 * @throws MeshError INVALID_ARGUMENT for an empty name or a shard or seq that is not a
 * non-negative safe integer.
 */
export function outputMessageId(deployment: string, window: string, shard: number, seq: number): string {
  if (typeof deployment !== "string" || deployment === "") {
    throw new MeshError("INVALID_ARGUMENT", "outputMessageId: `deployment` must be a non-empty string");
  }
  if (typeof window !== "string" || window === "") {
    throw new MeshError("INVALID_ARGUMENT", "outputMessageId: `window` must be a non-empty string", {
      details: { window },
    });
  }
  for (const [name, value] of [
    ["shard", shard],
    ["seq", seq],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new MeshError(
        "INVALID_ARGUMENT",
        `outputMessageId: \`${name}\` must be a non-negative integer, got ${value}`,
        {
          details: { window },
        },
      );
    }
  }
  return `${encodeURIComponent(deployment)}:${encodeURIComponent(window)}:${shard}:${seq}`;
}

/**
 * The `Nats-Msg-Id` of the output events one shard produced for one input origin:
 * `deployment:window:shard:sourceId:seq` (`:part` appended for part > 0), names percent-encoded so
 * that no two different inputs give the same id. A shard's outputs for an origin are deterministic
 * given the shard's checkpoint, so a worker that replays the origin after a failure republishes the
 * same ids and the stream drops them (within its duplicate window): each output is stored once.
 * @param deployment the producing deployment.
 * @param window the output window.
 * @param shard the shard the events were produced for.
 * @param origin the input batch they were produced from: its `sourceId` and `seq`.
 * @param part the index of the message when one shard's outputs for an origin are split. @default 0
 * @throws MeshError INVALID_ARGUMENT for an empty name or sourceId, or a shard, seq or part that is
 * not a non-negative safe integer.
 */
export function originMessageId(
  deployment: string,
  window: string,
  shard: number,
  origin: { readonly sourceId: string; readonly seq: number },
  part = 0,
): string {
  if (typeof origin?.sourceId !== "string" || origin.sourceId === "") {
    throw new MeshError("INVALID_ARGUMENT", "originMessageId: `origin.sourceId` must be a non-empty string", {
      details: { window },
    });
  }
  if (!Number.isSafeInteger(part) || part < 0) {
    throw new MeshError("INVALID_ARGUMENT", `originMessageId: \`part\` must be a non-negative integer, got ${part}`, {
      details: { window },
    });
  }
  const base = outputMessageId(deployment, window, shard, origin.seq);
  const at = base.lastIndexOf(":");
  const id = `${base.slice(0, at)}:${encodeURIComponent(origin.sourceId)}${base.slice(at)}`;
  return part === 0 ? id : `${id}:${part}`;
}
