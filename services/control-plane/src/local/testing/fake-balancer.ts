/**
 * A FAKE balancer for the local driver's tests: checks it got a deployment with its sources in
 * ESPMESH_DEPLOYMENT_JSON, then listens on ESPMESH_BALANCER_ADDRESS until SIGTERM.
 */
import { once } from "node:events";
import { createServer } from "node:net";

const deployment = JSON.parse(process.env.ESPMESH_DEPLOYMENT_JSON ?? "{}") as { sources?: unknown[] };
if (!Array.isArray(deployment.sources) || deployment.sources.length === 0) {
  throw new Error("the balancer got no source windows in ESPMESH_DEPLOYMENT_JSON");
}
const [host, port] = (process.env.ESPMESH_BALANCER_ADDRESS ?? "127.0.0.1:0").split(":");
const server = createServer((socket) => socket.end());
server.listen(Number(port), host);
await once(server, "listening");
process.on("SIGTERM", () => server.close());
