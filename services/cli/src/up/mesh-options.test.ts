import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileEmbeddedMeshOptions } from "./mesh-options.js";

describe("compileEmbeddedMeshOptions", () => {
  it("defaults to the gateway on 127.0.0.1:8080, the control plane on 7400, two workers, memory state", () => {
    const options = compileEmbeddedMeshOptions();
    expect(options).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      controlPort: 7400,
      workers: 2,
      redisUrl: undefined,
      natsUrl: undefined,
      dataDir: resolve(".espmesh"),
      token: undefined,
      stopGraceMs: 5000,
    });
  });

  it("refuses bad values, naming the option", () => {
    expect(() => compileEmbeddedMeshOptions({ port: 70_000 })).toThrow(/^port must be a port/);
    expect(() => compileEmbeddedMeshOptions({ workers: 0 })).toThrow(/^workers must be an integer from 1/);
    expect(() => compileEmbeddedMeshOptions({ redisUrl: "localhost:6379" })).toThrow(/^redis must/);
    expect(() => compileEmbeddedMeshOptions({ natsUrl: "http://x" })).toThrow(/^nats must use nats:/);
    expect(() => compileEmbeddedMeshOptions({ token: " " })).toThrow(/^token must not be empty/);
  });
});
