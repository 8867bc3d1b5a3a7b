/**
 * @packageDocumentation
 * `@espmesh/client`: the gRPC client SDK of espmesh. {@link createClient} connects to the mesh;
 * its {@link Publisher} batches rows and resends what was not acknowledged after a reconnect, so
 * nothing published is lost; `subscribe` follows a window's output events as an AsyncIterable.
 */
export { createClient, type EspClient, type SubscribeOptions } from "./client.js";
export type { ClientOptions, PublisherOptions } from "./options.js";
export type { Publisher } from "./publisher.js";
