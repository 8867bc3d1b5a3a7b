import type { MessageInitShape } from "@bufbuild/protobuf";
import { concatBatches, createSchemaCache, decodeBatch, encodeBatch, selectRows } from "@espmesh/events";
import type * as pb from "@espmesh/proto";
import { allRows } from "@espmesh/routing";
import { type Logger, MeshError } from "@espmesh/telemetry";
import { createChannel } from "./channel.js";
import type { WorkerLink } from "./worker-link.js";
import type { WorkerPool } from "./worker-pool.js";

type SubscribeReply = MessageInitShape<typeof pb.SubscribeResponseSchema>;
type QueryReply = MessageInitShape<typeof pb.QueryWindowResponseSchema>;

/** What the fan-in needs from the balancer. */
export interface FanInContext {
  readonly project: string;
  readonly pool: WorkerPool;
  readonly logger: Logger;
  /** Aborted when the balancer stops: subscriptions end. */
  readonly stopping: AbortSignal;
  /**
   * Deadline of one worker's Snapshot call, ms.
   * @default 30000
   */
  readonly snapshotTimeoutMs?: number;
}

function checkProject(project: string, context: FanInContext): void {
  if (project !== context.project) {
    throw new MeshError(
      "NOT_FOUND",
      `project "${project}" is not served here (this balancer serves "${context.project}")`,
    );
  }
}

/** Errors that say the request itself is wrong, so every worker would answer the same. */
function isRequestError(error: MeshError): boolean {
  return error.code === "NOT_FOUND" || error.code === "INVALID_ARGUMENT" || error.code === "FAILED_PRECONDITION";
}

/**
 * The current rows of a window across the ready workers: one Snapshot per worker, concatenated;
 * a replicated (multicast-fed) window is taken from one worker only, so its rows appear once.
 */
export async function queryWindow(
  request: Pick<pb.QueryWindowRequest, "project" | "window" | "limit">,
  signal: AbortSignal,
  context: FanInContext,
): Promise<QueryReply> {
  checkProject(request.project, context);
  const links = context.pool.readyLinks();
  if (links.length === 0)
    throw new MeshError("UNAVAILABLE", "no worker is ready to answer", { details: { window: request.window } });
  const deadline = context.snapshotTimeoutMs ?? 30_000;
  const replies = await Promise.all(
    links.map((link) => link.client.snapshot({ window: request.window }, { signal, deadline })),
  );
  const replicated = replies.find((reply) => reply.replicated);
  const chosen = (replicated === undefined ? replies : [replicated]).flatMap((reply) =>
    reply.rows ? [reply.rows] : [],
  );
  if (chosen.length === 0) return {};
  const cache = createSchemaCache();
  const batches = chosen.map((rows) => decodeBatch(rows, cache));
  const first = batches[0]!;
  let merged = concatBatches(first.schema, batches);
  const limit = request.limit;
  if (limit > 0 && merged.length > limit) merged = selectRows(merged, allRows(limit), limit);
  return { rows: encodeBatch(merged, { window: request.window, includeSchema: true }) };
}

/**
 * Output events of a window merged from every ready worker's Subscribe stream, picking up
 * workers that become ready later. With `snapshot`, the merged current rows come first. A
 * replicated window is forwarded from one worker at a time. The merged stream follows a slow
 * subscriber: worker streams are read only as fast as it reads.
 */
export async function* subscribe(
  request: pb.SubscribeRequest,
  signal: AbortSignal,
  context: FanInContext,
): AsyncIterable<SubscribeReply> {
  checkProject(request.project, context);
  const window = request.window;
  const out = createChannel<SubscribeReply>({ highWater: 64 });
  const cancel = new AbortController();
  const stop = AbortSignal.any([signal, context.stopping, cancel.signal]);
  const reading = new Set<WorkerLink>();
  let primary: WorkerLink | undefined;

  const read = async (link: WorkerLink) => {
    try {
      for await (const response of link.client.subscribe({ window }, { signal: stop })) {
        if (response.replicated) {
          if (primary === undefined || !reading.has(primary)) primary = link;
          if (primary !== link) continue;
        }
        if (response.batch !== undefined) await out.write({ batch: response.batch });
      }
    } catch (error) {
      const failure = MeshError.from(error);
      if (isRequestError(failure)) out.end(failure);
      else if (!stop.aborted) context.logger.debug({ worker: link.id, err: failure }, "worker subscription ended");
    } finally {
      reading.delete(link);
      if (primary === link) primary = undefined;
    }
  };
  const start = (link: WorkerLink) => {
    if (reading.has(link) || stop.aborted) return;
    reading.add(link);
    void read(link);
  };
  const onStop = () => out.end();
  stop.addEventListener("abort", onStop, { once: true });
  context.pool.readyListeners.add(start);
  try {
    for (const link of context.pool.readyLinks()) start(link);
    if (request.snapshot) {
      const rows = await queryWindow({ project: request.project, window, limit: 0 }, stop, context);
      if (rows.rows !== undefined) yield { batch: rows.rows };
    }
    yield* out;
  } finally {
    context.pool.readyListeners.delete(start);
    stop.removeEventListener("abort", onStop);
    cancel.abort(new MeshError("CANCELLED", "the subscription ended"));
  }
}
