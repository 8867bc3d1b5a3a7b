import { createGateway, type Gateway } from "../gateway.js";
import type { GatewayOptions } from "../options.js";
import { type MeshStandIn, type MeshStandInOptions, startMeshStandIn } from "./mesh-stand-in.js";

/** A trades project: source `trades` (id*, symbol, price, quantity) and a filter `big` over it. */
export const TRADES_XML = `<project name="trades" pubsub="auto" threads="1">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="trades" index="pi_HASH">
          <schema-string>id*:int64,symbol:string,price:double,quantity:int32</schema-string>
        </window-source>
        <window-filter name="big">
          <expression>quantity &gt; 100</expression>
        </window-filter>
      </windows>
      <edges><edge source="trades" target="big"/></edges>
    </contquery>
  </contqueries>
</project>`;

/** A gateway on 127.0.0.1 pointed at a {@link MeshStandIn}. */
export interface Fixture {
  readonly mesh: MeshStandIn;
  readonly gateway: Gateway;
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** An HTTP request to the gateway; `body` strings are sent as is, anything else as JSON. */
  request(method: string, path: string, init?: { body?: unknown; type?: string; token?: string }): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts a mesh stand-in and a gateway in front of it. */
export async function startFixture(
  options: Omit<GatewayOptions, "address" | "client"> = {},
  meshOptions: MeshStandInOptions = {},
): Promise<Fixture> {
  const mesh = await startMeshStandIn(meshOptions);
  const gateway = createGateway({ address: mesh.address, host: "127.0.0.1", port: 0, ...options });
  const { address } = await gateway.start();
  const url = `http://${address}`;
  return {
    mesh,
    gateway,
    url,
    request(method, path, init = {}) {
      const headers: Record<string, string> = {};
      const token = init.token ?? options.token;
      if (token !== undefined && token !== "") headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
        headers["content-type"] = init.type ?? "application/json";
      }
      return fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    },
    async stop() {
      await gateway.stop();
      await mesh.stop();
    },
  };
}

/** Deploys {@link TRADES_XML} as `trades` through the gateway. */
export async function deployTrades(fixture: Fixture): Promise<void> {
  const response = await fixture.request("PUT", "/v1/projects/trades", { body: TRADES_XML, type: "application/xml" });
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`deploy failed: ${response.status} ${await response.text()}`);
  }
}

/** The JSON body of a response, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON answers
export function json(response: Response): Promise<any> {
  return response.json();
}
