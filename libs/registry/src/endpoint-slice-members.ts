import type { V1EndpointSlice } from "@kubernetes/client-node";
import type { Member } from "./types.js";

/** How {@link membersFromEndpointSlices} picks each endpoint's port. */
export interface EndpointPortChoice {
  /**
   * A port name to look up in each slice's `ports`, or a fixed port number. Unset: the slice's
   * first port.
   */
  port?: string | number;
}

function hostPort(host: string, port: number, addressType: string | undefined): string {
  return addressType === "IPv6" || host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function portOf(slice: V1EndpointSlice, choice: EndpointPortChoice): number | undefined {
  if (typeof choice.port === "number") return choice.port;
  const ports = slice.ports ?? [];
  const chosen = choice.port === undefined ? ports[0] : ports.find((port) => port.name === choice.port);
  return chosen?.port;
}

/** Higher is more alive: ready, then serving, then neither. */
function liveness(member: Member): number {
  if (member.ready) return 2;
  if (member.serving) return 1;
  return 0;
}

/**
 * The members of a Service from all of its EndpointSlices, merged. Each endpoint becomes one
 * member whose id is its `targetRef` name (the pod), else its hostname, else its address; an id
 * seen in several slices (as during a slice split or move) appears once, with the most alive
 * conditions. Conditions follow the EndpointSlice API: an unset `ready` or `serving` counts as
 * true, an unset `terminating` as false; a terminating endpoint is never ready, so it takes no
 * new shards and drains while it is serving. Endpoints without an address or port are skipped.
 */
export function membersFromEndpointSlices(
  slices: Iterable<V1EndpointSlice>,
  choice: EndpointPortChoice = {},
): Member[] {
  const byId = new Map<string, Member>();
  const ordered = [...slices].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const slice of ordered) {
    if (slice.addressType === "FQDN" && choice.port === undefined && (slice.ports ?? []).length === 0) continue;
    const port = portOf(slice, choice);
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const host = endpoint.addresses?.[0];
      if (host === undefined || host === "") continue;
      const conditions = endpoint.conditions ?? {};
      const terminating = conditions.terminating === true;
      const ready = conditions.ready !== false && !terminating;
      const serving = conditions.serving ?? conditions.ready !== false;
      const member: Member = {
        id: endpoint.targetRef?.name ?? endpoint.hostname ?? host,
        address: hostPort(host, port, slice.addressType),
        ready,
        serving,
        terminating,
      };
      const previous = byId.get(member.id);
      if (previous === undefined || liveness(member) > liveness(previous)) byId.set(member.id, member);
    }
  }
  return [...byId.values()];
}
