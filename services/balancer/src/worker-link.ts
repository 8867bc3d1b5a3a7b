import { toBinary } from "@bufbuild/protobuf";
import { schemaToProto } from "@espmesh/events";
import * as pb from "@espmesh/proto";
import { type Logger, MeshError } from "@espmesh/telemetry";
import type * as grpc from "@grpc/grpc-js";
import { type Part, partBytes } from "./delivery.js";
import { openProcessCall, type ProcessCall, type ProcessRequestOut } from "./process-call.js";
import { encodeProcessBatch } from "./process-encoder.js";

/** What a link reports to the balancer. */
export interface LinkEvents {
  /** The worker answered `ProcessReady`. */
  ready(link: WorkerLink): void;
  /** These parts are committed by the worker (in send order). */
  committed(link: WorkerLink, parts: readonly Part[]): void;
  /** The worker rejected events of a part (the part's other events were applied). */
  badEvents(link: WorkerLink, part: Part, events: readonly pb.BadEvent[]): void;
  /** The worker could not apply a part. */
  failed(link: WorkerLink, part: Part, code: string, message: string): void;
  /** The stream is gone; `parts` were sent and never committed (in send order). */
  lost(link: WorkerLink, parts: Part[], reason: MeshError): void;
}

/** What a link needs to know. */
export interface WorkerLinkOptions {
  readonly id: string;
  readonly address: string;
  /** The link's unique number in the balancer's link table (a new one per connection). */
  readonly slot: number;
  readonly project: string;
  readonly deployment: string;
  readonly balancerId: string;
  readonly shardCount: number;
  readonly credentials: grpc.ChannelCredentials | undefined;
  readonly logger: Logger;
  readonly events: LinkEvents;
}

interface InFlight {
  readonly seq: number;
  readonly part: Part;
  readonly bytes: number;
}

/**
 * One `Process` stream to one worker: sends sub-batches with stream sequence numbers, keeps each
 * in flight until the worker's `Committed(upTo)` covers it, and asks the worker to acquire and
 * release shards. A link is used for one connection; a reconnect makes a new link.
 */
export class WorkerLink {
  state: "connecting" | "ready" | "closed" = "connecting";
  /** Events sent and not yet committed. */
  inflightEvents = 0;
  /** Estimated bytes sent and not yet committed. */
  inflightBytes = 0;
  readonly client: pb.ServiceClient<typeof pb.WorkerService>;
  private entries: (InFlight | undefined)[] = [];
  private head = 0;
  private nextSeq = 1;
  private readonly sentSchemas = new Set<string>();
  private readonly releaseWaiters = new Map<string, (released: boolean) => void>();
  private call: ProcessCall | undefined;

  constructor(private readonly options: WorkerLinkOptions) {
    this.client = pb.createServiceClient(
      pb.WorkerService,
      options.address,
      options.credentials === undefined ? {} : { credentials: options.credentials },
    );
  }

  get id(): string {
    return this.options.id;
  }

  get slot(): number {
    return this.options.slot;
  }

  get address(): string {
    return this.options.address;
  }

  /** Opens the stream and sends `ProcessOpen`. */
  open(): void {
    const { project, deployment, balancerId, shardCount } = this.options;
    const call = openProcessCall(this.client.channel);
    this.call = call;
    call.write({ kind: { case: "open", value: { project, deployment, balancerId, shardCount } } });
    this.read(call.responses).then(
      () => this.lose(new MeshError("UNAVAILABLE", `worker ${this.id} ended its Process stream`)),
      (error: unknown) => this.lose(MeshError.from(error)),
    );
  }

  private write(message: ProcessRequestOut): void {
    if (this.state !== "closed") this.call?.write(message);
  }

  /** Encodes a part for this stream and sends it; it stays in flight until committed. */
  send(part: Part): void {
    const seq = this.nextSeq++;
    const bytes = partBytes(part);
    this.entries.push({ seq, part, bytes });
    this.inflightEvents += part.count;
    this.inflightBytes += bytes;
    this.write(this.encode(seq, part));
  }

  /**
   * Asks the worker to commit and forget shards.
   * @returns true once the worker confirmed; false when the link was lost or timed out (it is then closed).
   */
  release(shards: readonly number[], epoch: number, timeoutMs: number): Promise<boolean> {
    if (this.state === "closed") return Promise.resolve(false);
    const key = String(epoch);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.releaseWaiters.delete(key);
        this.close(
          new MeshError("DEADLINE_EXCEEDED", `worker ${this.id} did not release shards within ${timeoutMs} ms`),
        );
        resolve(false);
      }, timeoutMs);
      this.releaseWaiters.set(key, (released) => {
        clearTimeout(timer);
        resolve(released);
      });
      this.write({ kind: { case: "release", value: { shards: [...shards], epoch: BigInt(epoch) } } });
    });
  }

  /** Tells the worker it owns shards from now on (it loads them before applying anything for them). */
  acquire(shards: readonly number[], epoch: number): void {
    this.write({ kind: { case: "acquire", value: { shards: [...shards], epoch: BigInt(epoch) } } });
  }

  /** Ends the stream; uncommitted parts are reported as lost. */
  close(reason: MeshError): void {
    this.lose(reason);
  }

  /** The in-flight parts, oldest first. */
  inflightParts(): Part[] {
    const parts: Part[] = [];
    for (let i = this.head; i < this.entries.length; i++) parts.push((this.entries[i] as InFlight).part);
    return parts;
  }

  /** The request bytes of a part: its rows cut from the published bytes, the schema on its first use. */
  private encode(seq: number, part: Part): Uint8Array {
    const fields = part.source.schema;
    const first = !this.sentSchemas.has(fields.fingerprint);
    this.sentSchemas.add(fields.fingerprint);
    return encodeProcessBatch({
      seq,
      message: part.message,
      fields,
      rows: part.rows,
      count: part.count,
      schema: first ? toBinary(pb.SchemaSchema, schemaToProto(fields)) : undefined,
    });
  }

  private async read(responses: AsyncIterable<pb.ProcessResponse>): Promise<void> {
    for await (const response of responses) {
      if (this.state === "closed") return;
      this.handle(response);
    }
  }

  private handle(response: pb.ProcessResponse): void {
    const kind = response.kind;
    switch (kind.case) {
      case "ready":
        if (this.state === "connecting") {
          this.state = "ready";
          this.options.events.ready(this);
        }
        return;
      case "committed":
        this.commitUpTo(Number(kind.value.upTo));
        return;
      case "badEvents": {
        const entry = this.find(Number(kind.value.seq));
        if (entry !== undefined) this.options.events.badEvents(this, entry.part, kind.value.events);
        return;
      }
      case "failure": {
        const seq = Number(kind.value.seq);
        const entry = seq > 0 ? this.find(seq) : undefined;
        if (entry !== undefined) this.options.events.failed(this, entry.part, kind.value.code, kind.value.message);
        else this.options.logger.warn({ worker: this.id, code: kind.value.code }, kind.value.message);
        return;
      }
      case "released":
        this.releaseWaiters.get(String(kind.value.epoch))?.(true);
        this.releaseWaiters.delete(String(kind.value.epoch));
        return;
      case "acquired":
        this.options.logger.debug({ worker: this.id, shards: kind.value.shards.length }, "shards acquired");
        return;
      default:
        return;
    }
  }

  private commitUpTo(upTo: number): void {
    const done: Part[] = [];
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head] as InFlight;
      if (entry.seq > upTo) break;
      this.entries[this.head] = undefined;
      this.head++;
      this.inflightEvents -= entry.part.count;
      this.inflightBytes -= entry.bytes;
      done.push(entry.part);
    }
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (done.length > 0) this.options.events.committed(this, done);
  }

  private find(seq: number): InFlight | undefined {
    let low = this.head;
    let high = this.entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const entry = this.entries[middle] as InFlight;
      if (entry.seq === seq) return entry;
      if (entry.seq < seq) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  private lose(reason: MeshError): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.call?.cancel();
    const parts = this.inflightParts();
    this.entries = [];
    this.head = 0;
    this.inflightEvents = 0;
    this.inflightBytes = 0;
    for (const wake of this.releaseWaiters.values()) wake(false);
    this.releaseWaiters.clear();
    this.client.close();
    this.options.events.lost(this, parts, reason);
  }
}
