import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fixture, json, startFixture, TRADES_XML } from "./test-support/fixture.js";

// The mesh here is a stand-in (test-support/mesh-stand-in.ts): a real gRPC server implementing
// ControlService and IngestService in memory, because the real mesh is not runnable yet.
describe("gateway project routes", () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(async () => {
    await fixture?.stop();
  });

  it("deploys a raw XML project with query settings as 201, applying policy and hashFields to every source window", async () => {
    const response = await fixture.request(
      "PUT",
      "/v1/projects/trades?policy=hash&hashFields=symbol,id&minReplicas=2&maxReplicas=4&targetCpu=60",
      { body: TRADES_XML, type: "application/xml" },
    );
    expect(response.status).toBe(201);
    const status = await json(response);
    expect(status.name).toBe("trades");
    expect(status.sourceWindows).toEqual(["trades"]);
    expect(status.settings).toEqual({
      minReplicas: 2,
      maxReplicas: 4,
      targetCpuUtilization: 60,
      routing: { trades: { policy: "hash", hashFields: ["symbol", "id"] } },
    });
    expect(status.workers).toHaveLength(1);
    expect(status.workers[0]).toMatchObject({ ready: true, pid: process.pid });
  });

  it("replaces an existing deployment from a JSON body as 200", async () => {
    const response = await fixture.request("PUT", "/v1/projects/trades", {
      body: { project: TRADES_XML, settings: { minReplicas: 1, state: "none" } },
    });
    expect(response.status).toBe(200);
    expect((await json(response)).settings).toEqual({ minReplicas: 1, state: "none" });
  });

  it("lists deployments and answers one deployment's status with its workers", async () => {
    const list = await fixture.request("GET", "/v1/projects");
    expect(list.status).toBe(200);
    expect((await json(list)).projects.map((project: { name: string }) => project.name)).toEqual(["trades"]);
    const one = await fixture.request("GET", "/v1/projects/trades");
    expect(one.status).toBe(200);
    const status = await json(one);
    expect(status).toMatchObject({ name: "trades", phase: "running", replicasReady: 1, inFlight: 0 });
    expect(status.workers[0].id).toBe("trades-0");
  });

  it("refuses a broken project with 400 and the loader's message, deploying nothing", async () => {
    const broken = TRADES_XML.replace("window-filter", "window-bogus").replace("/window-filter", "/window-bogus");
    const response = await fixture.request("PUT", "/v1/projects/broken", { body: broken, type: "application/xml" });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("window-bogus");
    expect((await fixture.request("GET", "/v1/projects/broken")).status).toBe(404);
  });

  it("refuses a JSON body without a project and a body of another media type", async () => {
    const missing = await fixture.request("PUT", "/v1/projects/x", { body: { settings: {} } });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.code).toBe("INVALID_ARGUMENT");
    const csv = await fixture.request("PUT", "/v1/projects/x", { body: "a,b\n1,2\n", type: "text/csv" });
    expect(csv.status).toBe(415);
    expect((await json(csv)).error.message).toContain("application/xml");
  });

  it("answers 404 in the one error shape for an unknown project, and deletes a deployment", async () => {
    const unknown = await fixture.request("GET", "/v1/projects/nope");
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: "NOT_FOUND", details: {} });
    const deploy = await fixture.request("PUT", "/v1/projects/doomed", { body: TRADES_XML, type: "application/xml" });
    expect(deploy.status).toBe(201);
    expect((await fixture.request("DELETE", "/v1/projects/doomed")).status).toBe(204);
    expect((await fixture.request("GET", "/v1/projects/doomed")).status).toBe(404);
    expect((await fixture.request("DELETE", "/v1/projects/doomed")).status).toBe(404);
  });
});
