/**
 * A FAKE Kubernetes API server for tests: node:http on 127.0.0.1 speaking the real REST and
 * list/watch protocol for namespaced collections (`/api/v1/...`, `/apis/<group>/<version>/...`):
 * lists carry a resourceVersion; `?watch=true` streams newline-delimited JSON events (ADDED,
 * MODIFIED, DELETED, BOOKMARK when `allowWatchBookmarks=true`, ERROR with a 410 Status when the
 * requested version was compacted); create/get/replace/merge-patch/delete with Status errors
 * (404, 409). Tests drive it directly (put/remove/compact) and break it on purpose (end, drop or
 * stall open watches, fail the next requests). It is not a real API server: no auth, no
 * admission, no garbage collection, no field selectors.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { type FakeEvent, FakeKubeStore, type FakeObject, matchesSelector } from "./fake-kube-store.js";

export type { FakeObject } from "./fake-kube-store.js";

/** A request the fake received. */
export interface FakeRequest {
  method: string;
  collection: string;
  name: string | undefined;
  watch: boolean;
  query: Record<string, string>;
}

/** Which requests {@link FakeKubeApi.failNext} fails. */
export interface FakeFailureMatch {
  method?: string;
  watch?: boolean;
  /** A substring of the collection path. */
  collection?: string;
}

interface OpenWatch {
  collection: string;
  selector: string | null;
  bookmarks: boolean;
  stalled: boolean;
  response: ServerResponse;
}

interface Failure {
  match: FakeFailureMatch;
  status: number;
  remaining: number;
}

const routePattern = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/;

interface Reply {
  code: number;
  body: object;
}

function reply(code: number, body: object): Reply {
  return { code, body };
}

function statusBody(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** The fake API server; see the module comment. */
export class FakeKubeApi {
  readonly store = new FakeKubeStore();
  readonly requests: FakeRequest[] = [];
  readonly #server = createServer((request, response) => this.#handle(request, response));
  readonly #watches = new Set<OpenWatch>();
  readonly #failures: Failure[] = [];
  #url = "";

  /** Starts a fake API server on 127.0.0.1 with a free port. */
  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    api.#server.listen(0, "127.0.0.1");
    await once(api.#server, "listening");
    const address = api.#server.address() as AddressInfo;
    api.#url = `http://127.0.0.1:${address.port}`;
    return api;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.#url;
  }

  /** A KubeConfig pointing at this fake. */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "fake", server: this.#url, skipTLSVerify: true }],
      users: [{ name: "tester" }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester", namespace: "default" }],
      currentContext: "fake",
    });
    return config;
  }

  /** How many watches are open (stalled ones included). */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** Requests matching a filter. */
  requestsOf(filter: FakeFailureMatch): FakeRequest[] {
    return this.requests.filter((request) => this.#matches(filter, request));
  }

  /** Ends every open watch cleanly, like the API server's watch timeout. */
  endWatches(): void {
    for (const watch of [...this.#watches]) {
      this.#watches.delete(watch);
      watch.response.end();
    }
  }

  /** Cuts every open watch's connection abruptly. */
  dropWatches(): void {
    for (const watch of [...this.#watches]) {
      this.#watches.delete(watch);
      watch.response.socket?.destroy();
    }
  }

  /** Keeps every open watch's connection open but delivers nothing more on it (a dead peer). */
  stallWatches(): void {
    for (const watch of this.#watches) watch.stalled = true;
  }

  /** Sends an ERROR event with a 410 Status on every open watch and ends it. */
  expireWatches(): void {
    for (const watch of [...this.#watches]) {
      this.#watches.delete(watch);
      this.#write(watch, { type: "ERROR", object: statusBody(410, "Expired", "too old resource version") });
      watch.response.end();
    }
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const watch of this.#watches) {
      if (!watch.bookmarks) continue;
      this.#write(watch, {
        type: "BOOKMARK",
        object: { metadata: { resourceVersion: String(this.store.resourceVersion) } },
      });
    }
  }

  /** Answers the next `count` requests matching `match` with `status`. */
  failNext(match: FakeFailureMatch, status: number, count = 1): void {
    this.#failures.push({ match, status, remaining: count });
  }

  /** Stops the server, cutting open watches. */
  async close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #matches(filter: FakeFailureMatch, request: FakeRequest): boolean {
    if (filter.method !== undefined && filter.method !== request.method) return false;
    if (filter.watch !== undefined && filter.watch !== request.watch) return false;
    if (filter.collection !== undefined && !request.collection.includes(filter.collection)) return false;
    return true;
  }

  #write(watch: OpenWatch, event: object): void {
    if (watch.stalled || watch.response.writableEnded) return;
    watch.response.write(`${JSON.stringify(event)}\n`);
  }

  #send(response: ServerResponse, code: number, body: object): void {
    response.writeHead(code, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://fake");
    const match = routePattern.exec(url.pathname);
    if (match === null) {
      this.#send(response, 404, statusBody(404, "NotFound", `the fake has no route for ${url.pathname}`));
      return;
    }
    const collection = `/${match[1]}/namespaces/${match[2]}/${match[3]}`;
    const name = match[4] === undefined ? undefined : decodeURIComponent(match[4]);
    const query = Object.fromEntries(url.searchParams.entries());
    const method = request.method ?? "GET";
    const record: FakeRequest = { method, collection, name, watch: query.watch === "true", query };
    this.requests.push(record);
    const failure = this.#failures.find(
      (candidate) => candidate.remaining > 0 && this.#matches(candidate.match, record),
    );
    if (failure !== undefined) {
      failure.remaining -= 1;
      this.#send(response, failure.status, statusBody(failure.status, "InternalError", "injected failure"));
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        const body: unknown = text === "" ? undefined : JSON.parse(text);
        if (method === "GET" && record.watch && name === undefined) {
          this.#watch(collection, query, response);
          return;
        }
        const contentType = request.headers["content-type"] ?? "";
        const result = this.#route(record, match[2] as string, match[5] === "status", body, contentType);
        this.#send(response, result.code, result.body);
      } catch (error) {
        this.#send(response, 400, statusBody(400, "BadRequest", String(error)));
      }
    });
  }

  #route(
    record: FakeRequest,
    namespace: string,
    statusSubresource: boolean,
    body: unknown,
    contentType: string,
  ): Reply {
    const { method, collection, name, query } = record;
    if (name === undefined) {
      if (method === "GET") {
        const items = this.store.list(collection, query.labelSelector ?? null);
        return reply(200, {
          kind: "List",
          apiVersion: "v1",
          metadata: { resourceVersion: String(this.store.resourceVersion) },
          items,
        });
      }
      if (method === "POST") {
        const object = body as FakeObject;
        if (this.store.get(collection, object.metadata.name) !== undefined) {
          return reply(409, statusBody(409, "AlreadyExists", `${object.metadata.name} already exists`));
        }
        object.metadata.namespace = namespace;
        return reply(201, this.store.put(collection, object));
      }
    } else {
      const existing = this.store.get(collection, name);
      if (existing === undefined) return reply(404, statusBody(404, "NotFound", `${name} not found`));
      if (method === "GET") return reply(200, existing);
      if (method === "DELETE") return reply(200, this.store.remove(collection, name) as FakeObject);
      if (method === "PUT") {
        const object = body as FakeObject;
        const wanted = object.metadata.resourceVersion;
        if (wanted !== undefined && wanted !== "" && wanted !== existing.metadata.resourceVersion) {
          return reply(409, statusBody(409, "Conflict", `${name} was modified; reload and retry`));
        }
        const next: FakeObject = statusSubresource
          ? { ...existing, status: object.status }
          : { ...object, metadata: { ...object.metadata, namespace }, status: existing.status };
        return reply(200, this.store.put(collection, next));
      }
      if (method === "PATCH") {
        if (!contentType.includes("merge-patch")) {
          const message = `the fake takes merge patches, not ${contentType}`;
          return reply(415, statusBody(415, "UnsupportedMediaType", message));
        }
        const patched = mergePatch(existing, statusSubresource ? { status: (body as FakeObject).status } : body);
        return reply(200, this.store.put(collection, patched as FakeObject));
      }
    }
    return reply(405, statusBody(405, "MethodNotAllowed", `${method} is not supported by the fake`));
  }

  #watch(collection: string, query: Record<string, string>, response: ServerResponse): void {
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    const watch: OpenWatch = {
      collection,
      selector: query.labelSelector ?? null,
      bookmarks: query.allowWatchBookmarks === "true",
      stalled: false,
      response,
    };
    const from = query.resourceVersion;
    if (from !== undefined && from !== "" && from !== "0" && Number(from) < this.store.compactedBelow) {
      this.#write(watch, { type: "ERROR", object: statusBody(410, "Expired", `too old resource version: ${from}`) });
      response.end();
      return;
    }
    this.#watches.add(watch);
    const deliver = (event: FakeEvent) => {
      if (event.collection !== collection) return;
      if (!matchesSelector(event.object.metadata.labels, watch.selector)) return;
      this.#write(watch, { type: event.type, object: event.object });
    };
    if (from === undefined || from === "" || from === "0") {
      for (const object of this.store.list(collection, watch.selector)) this.#write(watch, { type: "ADDED", object });
    } else {
      for (const event of this.store.since(collection, Number(from))) deliver(event);
    }
    const unsubscribe = this.store.subscribe(deliver);
    response.on("close", () => {
      unsubscribe();
      this.#watches.delete(watch);
    });
  }
}
