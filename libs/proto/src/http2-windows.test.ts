import { connect } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { bindServer, shutdownServer } from "./grpc-adapter.js";
import { HTTP2_WINDOW_BYTES, widenHttp2Windows } from "./http2-windows.js";

describe("HTTP/2 windows", () => {
  const server = new grpc.Server();
  afterEach(() => shutdownServer(server, 100));

  it("a bound server advertises the wider stream window and opens the connection window", async () => {
    const port = await bindServer(server, "127.0.0.1:0");
    // bindServer widened the windows already; doing it again finds the same HTTP/2 server.
    expect(widenHttp2Windows(server)).toBe(true);
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
      expect(session.remoteSettings.initialWindowSize).toBe(HTTP2_WINDOW_BYTES);
      // The server's WINDOW_UPDATE on the connection follows its SETTINGS.
      await new Promise<void>((resolve) => {
        const check = () =>
          (session.state.remoteWindowSize ?? 0) >= HTTP2_WINDOW_BYTES ? resolve() : setImmediate(check);
        check();
      });
      expect(session.state.remoteWindowSize).toBeGreaterThanOrEqual(HTTP2_WINDOW_BYTES);
    } finally {
      session.close();
    }
  });
});
