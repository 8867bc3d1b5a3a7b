/**
 * @packageDocumentation
 * The espmesh test harness: throwaway `redis-server` and `nats-server -js` on free loopback ports
 * in temp dirs (stopped by the tests, killed anyway when the test process exits), a free-port
 * helper and {@link waitFor}.
 */
export { findBinary } from "./binaries.js";
export { freePort } from "./free-port.js";
export { type NatsServer, type NatsServerOptions, startNats } from "./nats-server.js";
export { type RedisServer, type RedisServerOptions, startRedis } from "./redis-server.js";
export { type WaitForOptions, waitFor } from "./wait-for.js";
