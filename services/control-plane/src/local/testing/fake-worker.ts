/**
 * A FAKE worker for the local driver's tests, reading the worker environment contract: it binds
 * a TCP port, registers with ESPMESH_REGISTRY_ADDRESS as ESPMESH_WORKER_ID in ESPMESH_DEPLOYMENT,
 * burns CPU while the file
 * named by ESPMESH_TEST_BURN_FILE exists, and on SIGTERM drains, deregisters and exits.
 */

import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { registerWorker } from "@espmesh/registry";

const env = process.env;
const server = createServer((socket) => socket.end());
server.listen(0, "127.0.0.1");
await once(server, "listening");
const bound = server.address();
const port = typeof bound === "object" && bound !== null ? bound.port : 0;
const registration = await registerWorker({
  registry: env.ESPMESH_REGISTRY_ADDRESS ?? "",
  deployment: env.ESPMESH_DEPLOYMENT ?? "",
  id: env.ESPMESH_WORKER_ID ?? "",
  address: `127.0.0.1:${port}`,
  ttlMs: 1000,
});

let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
  // A fake must never outlive its test: leave even if draining hangs.
  setTimeout(() => process.exit(0), 3000).unref();
});

const burnFile = env.ESPMESH_TEST_BURN_FILE;
while (!stopping) {
  if (burnFile !== undefined && existsSync(burnFile)) {
    const until = Date.now() + 50;
    while (Date.now() < until) {
      // Busy on purpose: this worker is "under load".
    }
    await delay(0);
  } else {
    await delay(50);
  }
}
await registration.drain();
await registration.deregister();
server.close();
