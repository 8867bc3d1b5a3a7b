import type { Http2Server, Http2Session } from "node:http2";
import type * as grpc from "@grpc/grpc-js";

/**
 * HTTP/2 receive window of each stream and of each connection of a server, in bytes.
 * @default 1 MiB (HTTP/2's own default is 64 KiB)
 */
export const HTTP2_WINDOW_BYTES = 1024 * 1024;

/**
 * Widens the HTTP/2 receive windows of a bound gRPC server. With the default 64 KiB a sender may
 * have at most two or three 25 KB batches on the way before it must wait for the receiver's
 * WINDOW_UPDATE, so a burst crosses a hop in many round trips between two busy processes. The
 * window still bounds what a sender can push ahead of a reader that stopped reading.
 *
 * grpc-js has no server option for it, so this reaches the server's HTTP/2 servers (a private
 * field of grpc-js 1.x, pinned in package.json) and applies to sessions opened from now on.
 * {@link bindServer} calls it for every server it binds.
 * @returns false when the grpc-js in use keeps its servers elsewhere (nothing was changed).
 */
export function widenHttp2Windows(server: grpc.Server, bytes: number = HTTP2_WINDOW_BYTES): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return false;
  for (const http2Server of servers.keys() as Iterable<Http2Server>) {
    http2Server.updateSettings({ initialWindowSize: bytes });
    http2Server.on("session", (session: Http2Session) => session.setLocalWindowSize(bytes));
  }
  return servers.size > 0;
}
