import type { V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { membersFromEndpointSlices } from "./endpoint-slice-members.js";

function slice(name: string, body: Partial<V1EndpointSlice>): V1EndpointSlice {
  return { addressType: "IPv4", endpoints: [], metadata: { name }, ...body };
}

describe("membersFromEndpointSlices", () => {
  it("reads unset conditions as ready, serving and not terminating", () => {
    const members = membersFromEndpointSlices([
      slice("s", { ports: [{ port: 7000 }], endpoints: [{ addresses: ["10.0.0.1"], targetRef: { name: "w-0" } }] }),
    ]);
    expect(members).toEqual([{ id: "w-0", address: "10.0.0.1:7000", ready: true, serving: true, terminating: false }]);
  });

  it("never treats a terminating endpoint as ready, even if it says so", () => {
    const members = membersFromEndpointSlices([
      slice("s", {
        ports: [{ port: 7000 }],
        endpoints: [
          { addresses: ["10.0.0.1"], targetRef: { name: "w-0" }, conditions: { ready: true, terminating: true } },
        ],
      }),
    ]);
    expect(members[0]).toMatchObject({ ready: false, serving: true, terminating: true });
  });

  it("brackets IPv6 addresses and picks the port by name or number", () => {
    const v6 = slice("s6", {
      addressType: "IPv6",
      ports: [
        { name: "metrics", port: 9090 },
        { name: "grpc", port: 7000 },
      ],
      endpoints: [{ addresses: ["fd00::1"], hostname: "w-0" }],
    });
    expect(membersFromEndpointSlices([v6], { port: "grpc" })[0]?.address).toBe("[fd00::1]:7000");
    expect(membersFromEndpointSlices([v6])[0]?.address).toBe("[fd00::1]:9090");
    expect(membersFromEndpointSlices([v6], { port: 7777 })[0]?.address).toBe("[fd00::1]:7777");
  });

  it("skips slices without the wanted port and endpoints without an address", () => {
    const members = membersFromEndpointSlices(
      [
        slice("a", { ports: [{ name: "http", port: 80 }], endpoints: [{ addresses: ["10.0.0.1"] }] }),
        slice("b", {
          ports: [{ name: "grpc", port: 7000 }],
          endpoints: [{ addresses: [] }, { addresses: ["10.0.0.2"] }],
        }),
      ],
      { port: "grpc" },
    );
    expect(members).toEqual([
      { id: "10.0.0.2", address: "10.0.0.2:7000", ready: true, serving: true, terminating: false },
    ]);
  });
});
