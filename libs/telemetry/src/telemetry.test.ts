import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { getMeter } from "./meter.js";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.js";
import { metricsText, startTelemetry, type Telemetry } from "./telemetry.js";

/** A loopback port that was free a moment ago. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

function httpGet(url: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

const started: Telemetry[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((telemetry) => telemetry.shutdown()));
});

describe("startTelemetry and getMeter", () => {
  it("shows a counter made before start in the Prometheus text once telemetry runs", async () => {
    const counter = getMeter("@espmesh/test").createCounter("espmesh.test.events", { description: "events seen" });
    counter.add(5, { window: "trades" });
    const telemetry = await startTelemetry({ serviceName: "test-service" });
    started.push(telemetry);
    counter.add(2, { window: "trades" });
    counter.add(1, { window: "quotes" });
    const text = await telemetry.metricsText();
    expect(text).toContain("# HELP espmesh_test_events_total events seen");
    expect(text).toMatch(/espmesh_test_events_total\{[^}]*window="trades"[^}]*\} 2\b/);
    expect(text).toMatch(/espmesh_test_events_total\{[^}]*window="quotes"[^}]*\} 1\b/);
    expect(text).toContain('service_name="test-service"');
  });

  it("reports observable gauges through their callbacks", async () => {
    const gauge = getMeter("@espmesh/test").createObservableGauge("espmesh.test.inflight");
    let inflight = 42;
    gauge.addCallback((result) => result.observe(inflight, { worker: "w1" }));
    const telemetry = await startTelemetry({ serviceName: "test-service" });
    started.push(telemetry);
    expect(await telemetry.metricsText()).toMatch(/espmesh_test_inflight\{[^}]*worker="w1"[^}]*\} 42\b/);
    inflight = 7;
    expect(await telemetry.metricsText()).toMatch(/espmesh_test_inflight\{[^}]*worker="w1"[^}]*\} 7\b/);
  });

  it("serves the same text at /metrics on its own port and through the handler", async () => {
    const port = await freeLoopbackPort();
    const telemetry = await startTelemetry({ serviceName: "svc", prometheusPort: port, prometheusHost: "127.0.0.1" });
    started.push(telemetry);
    getMeter("@espmesh/test").createCounter("espmesh.test.served").add(3);
    expect(telemetry.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`);
    const scraped = await httpGet(telemetry.metricsUrl ?? "");
    expect(scraped.status).toBe(200);
    expect(scraped.type).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(scraped.body).toMatch(/espmesh_test_served_total\{[^}]*\} 3\b/);
    expect((await httpGet(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    const existing = createServer(telemetry.metricsHandler);
    await new Promise<void>((resolve) => existing.listen(0, "127.0.0.1", resolve));
    try {
      const { port: existingPort } = existing.address() as AddressInfo;
      const viaHandler = await httpGet(`http://127.0.0.1:${existingPort}/metrics`);
      expect(viaHandler.body).toMatch(/espmesh_test_served_total\{[^}]*\} 3\b/);
    } finally {
      await new Promise<void>((resolve) => existing.close(() => resolve()));
    }
  });

  it("shares one SDK between handles and stops recording after the last shutdown", async () => {
    const first = await startTelemetry({ serviceName: "a" });
    const second = await startTelemetry({ serviceName: "b" });
    const counter = getMeter("@espmesh/test").createCounter("espmesh.test.shared");
    counter.add(1);
    await first.shutdown();
    counter.add(1);
    expect(await second.metricsText()).toMatch(/espmesh_test_shared_total\{[^}]*\} 2\b/);
    await second.shutdown();
    await second.shutdown();
    counter.add(1);
    expect(await metricsText()).toBe("");
  });

  it("rejects a port already in use, naming the address", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      await expect(
        startTelemetry({ serviceName: "svc", prometheusPort: port, prometheusHost: "127.0.0.1" }),
      ).rejects.toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining(`127.0.0.1:${port}`) });
      expect(await metricsText()).toBe("");
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("rejects bad options naming them", async () => {
    await expect(startTelemetry({ serviceName: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(startTelemetry({ serviceName: "s", prometheusPort: 70_000 })).rejects.toThrow(/prometheusPort/);
  });
});
