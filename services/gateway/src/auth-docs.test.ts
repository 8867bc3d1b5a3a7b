import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployTrades, type Fixture, json, startFixture } from "./test-support/fixture.js";

// The mesh here is a stand-in (test-support/mesh-stand-in.ts): a real gRPC server implementing
// ControlService and IngestService in memory, because the real mesh is not runnable yet.
describe("gateway auth, probes and docs", () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture({ token: "s3cret" });
    await deployTrades(fixture);
  });
  afterAll(async () => {
    await fixture?.stop();
  });

  it("refuses a missing or wrong bearer token with 401 in the one error shape, applying nothing", async () => {
    const rows = [{ id: 1, symbol: "A", price: 1, quantity: 1 }];
    for (const token of ["", "wrong"]) {
      const post = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", { body: rows, token });
      expect(post.status).toBe(401);
      expect(post.headers.get("www-authenticate")).toContain("Bearer");
      const { error } = await json(post);
      expect(error.code).toBe("UNAUTHENTICATED");
      expect(error.message).toContain(token === "" ? "missing" : "invalid");
      expect((await fixture.request("GET", "/v1/projects", { token })).status).toBe(401);
      expect(
        (await fixture.request("PUT", "/v1/projects/evil", { body: "<project/>", type: "application/xml", token }))
          .status,
      ).toBe(401);
    }
    expect(fixture.mesh.rows("trades", "trades")).toEqual([]);
    expect((await fixture.request("GET", "/v1/projects/evil")).status).toBe(404);
  });

  it("answers the probes and metrics without a token", async () => {
    const open = { token: "" };
    const health = await fixture.request("GET", "/healthz", open);
    expect(health.status).toBe(200);
    expect(await json(health)).toEqual({ status: "ok" });
    const ready = await fixture.request("GET", "/readyz", open);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({ status: "ready" });
    const metrics = await fixture.request("GET", "/metrics", open);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
  });

  it("serves the OpenAPI document and Swagger UI at /docs without a token", async () => {
    const document = await fixture.request("GET", "/docs/json", { token: "" });
    expect(document.status).toBe(200);
    const openapi = await json(document);
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        "/v1/projects",
        "/v1/projects/{name}",
        "/v1/projects/{name}/windows/{window}/events",
        "/v1/projects/{name}/windows/{window}/state",
        "/healthz",
      ]),
    );
    expect(openapi.paths["/v1/projects/{name}/windows/{window}/events"].post.requestBody.content).toHaveProperty(
      "text/csv",
    );
    expect(openapi.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
    const ui = await fetch(`${fixture.url}/docs`, { redirect: "follow" });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("swagger");
  });

  it("answers an unknown route with 404 in the one error shape", async () => {
    const response = await fixture.request("GET", "/v2/nothing");
    expect(response.status).toBe(404);
    expect((await json(response)).error).toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("gateway lifecycle", () => {
  it("ends open SSE streams on stop while the mesh is still up", async () => {
    const fixture = await startFixture();
    await deployTrades(fixture);
    const response = await fixture.request("GET", "/v1/projects/trades/windows/trades/events");
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the ": subscribed" comment
    await fixture.gateway.stop();
    let done = false;
    for (let reads = 0; reads < 10 && !done; reads++) done = (await reader.read()).done;
    expect(done).toBe(true);
    expect(fixture.gateway.state).toBe("stopped");
    await fixture.mesh.stop();
  });

  it("is not ready (503) when the mesh does not answer", async () => {
    const fixture = await startFixture({ readyTimeoutMs: 500 });
    await fixture.mesh.stop();
    const ready = await fixture.request("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect((await json(ready)).error.code).toBe("UNAVAILABLE");
    await fixture.gateway.stop();
  });
});
