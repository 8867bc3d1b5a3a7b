/**
 * An HTTP proxy on 127.0.0.1 in front of the FAKE Kubernetes API server that writes down, as
 * Kubernetes RBAC sees it, every request passing through: API group, resource (with its
 * subresource) and verb. Tests point a client at it and then check the chart's Roles allow all
 * of it.
 */
import { once } from "node:events";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

/** One request, in RBAC terms. */
export interface RbacRequest {
  /** "" for the core group. */
  group: string;
  /** `espprojects`, `espprojects/status`, ... */
  resource: string;
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";
}

const PATH = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

/** The RBAC view of an HTTP request to a namespaced collection or object. */
export function rbacRequestOf(method: string, url: string): RbacRequest {
  const parsed = new URL(url, "http://proxy");
  const match = PATH.exec(parsed.pathname);
  if (match === null) throw new Error(`not a namespaced resource path: ${parsed.pathname}`);
  const [, group = "", resource = "", name, subresource] = match;
  const full = subresource === undefined ? resource : `${resource}/${subresource}`;
  const verbs: Record<string, RbacRequest["verb"]> = {
    POST: "create",
    PUT: "update",
    PATCH: "patch",
    DELETE: name === undefined ? "deletecollection" : "delete",
  };
  const verb =
    method === "GET"
      ? name !== undefined
        ? "get"
        : parsed.searchParams.get("watch") === "true"
          ? "watch"
          : "list"
      : verbs[method];
  if (verb === undefined) throw new Error(`unexpected method ${method}`);
  return { group, resource: full, verb };
}

/** The proxy: its requests so far, a KubeConfig pointing at it, and close. */
export interface RecordingProxy {
  readonly requests: RbacRequest[];
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

/** Starts a proxy in front of `target` (`http://127.0.0.1:<port>`). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RbacRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    requests.push(rbacRequestOf(incoming.method ?? "GET", incoming.url ?? "/"));
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forward.destroy());
    incoming.pipe(forward);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    requests,
    kubeConfig() {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: "proxy", server: url, skipTLSVerify: true }],
        users: [{ name: "tester" }],
        contexts: [{ name: "proxy", cluster: "proxy", user: "tester", namespace: "default" }],
        currentContext: "proxy",
      });
      return config;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
