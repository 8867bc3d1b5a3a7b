import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "@espmesh/registry/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ControlPlane, createControlPlane } from "../control-plane.js";
import type { DeploymentStatusInit } from "../deployment-manager.js";
import { loadTestProject } from "../test-projects.js";
import { type LocalDriverOptions, localDriver } from "./local-driver.js";

function script(name: string): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: ["--import", "tsx", fileURLToPath(new URL(`./testing/${name}`, import.meta.url))],
  };
}

describe("local driver (fake worker and balancer processes)", () => {
  let directory: string;
  let plane: ControlPlane | undefined;
  let storeFile = "";
  let tests = 0;
  const burnFile = () => join(directory, "burn");

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "espmesh-local-driver-"));
  });

  beforeEach(() => {
    tests += 1;
    storeFile = join(directory, `deployments-${tests}.json`);
  });

  afterEach(async () => {
    await plane?.stop();
    plane = undefined;
    await rm(burnFile(), { force: true });
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function start(overrides: LocalDriverOptions = {}): Promise<ControlPlane> {
    plane = createControlPlane({
      store: { kind: "file", path: storeFile },
      loadProject: loadTestProject,
      leases: { defaultTtlMs: 1000 },
      driver: localDriver({
        workerCommand: script("fake-worker.ts"),
        balancerCommand: script("fake-balancer.ts"),
        env: { ESPMESH_TEST_BURN_FILE: burnFile() },
        workDir: join(directory, "work"),
        syncPeriodMs: 400,
        scaleDownStabilizationMs: 2000,
        restartBackoff: { initialMs: 50, maxMs: 200 },
        stopGraceMs: 3000,
        ...overrides,
      }),
    });
    await plane.start();
    return plane;
  }

  async function statusOf(name: string): Promise<DeploymentStatusInit> {
    return (plane as ControlPlane).deployments.get(name);
  }

  it("scales a min 1 max 3 deployment above 1 under CPU load and back to 1 when idle", {
    timeout: 90_000,
  }, async () => {
    const control = await start();
    const settings = {
      minReplicas: 1,
      maxReplicas: 3,
      targetCpuUtilization: 25,
      routing: { events: { policy: "round-robin" } },
    };
    await control.deployments.deploy("load", '{"test-project":"plain"}', JSON.stringify(settings));
    await waitUntil(async () => (await statusOf("load")).replicasReady === 1, 30_000, 100);
    await writeFile(burnFile(), "burn");
    let up: DeploymentStatusInit | undefined;
    await waitUntil(
      async () => {
        up = await statusOf("load");
        return (up.replicasDesired ?? 0) > 1;
      },
      40_000,
      100,
    );
    expect(up?.lastScaling?.toReplicas).toBeGreaterThan(up?.lastScaling?.fromReplicas ?? 3);
    expect(up?.lastScaling?.reason).toMatch(/^cpu \d+\.\d% vs target 25%: ceil\([12] × /);
    await rm(burnFile());
    await waitUntil(async () => (await statusOf("load")).replicasDesired === 1, 40_000, 100);
    const down = await statusOf("load");
    expect(down.lastScaling?.toReplicas).toBe(1);
    expect(down.balancerAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("restarts a worker that was killed, under the same id", { timeout: 60_000 }, async () => {
    const control = await start();
    await control.deployments.deploy("crashy", '{"test-project":"plain"}', "{}");
    await waitUntil(async () => (await statusOf("crashy")).replicasReady === 1, 30_000, 100);
    const before = (await statusOf("crashy")).workers?.[0];
    expect(before?.id).toBe("crashy-worker-0");
    process.kill(before?.pid as number, "SIGKILL");
    await waitUntil(
      async () => {
        const worker = (await statusOf("crashy")).workers?.[0];
        return worker?.ready === true && worker.pid !== before?.pid;
      },
      30_000,
      100,
    );
    const after = (await statusOf("crashy")).workers?.[0];
    expect(after).toMatchObject({ id: "crashy-worker-0", restarts: 1, ready: true });
  });

  it("lists the same deployments after the control plane restarts, and runs them again", {
    timeout: 120_000,
  }, async () => {
    const quiet: LocalDriverOptions = { balancerCommand: null, syncPeriodMs: 600_000 };
    const first = await start(quiet);
    await first.deployments.deploy("alpha", '{"test-project":"plain"}', '{"minReplicas":1,"maxReplicas":2}');
    await first.deployments.deploy("beta", '{"test-project":"plain"}', "{}");
    await first.deployments.scale("alpha", 2);
    await first.stop();
    plane = undefined;
    const second = await start(quiet);
    const listed = await second.deployments.list();
    expect(listed.map((status) => [status.name, status.phase, status.replicasDesired])).toEqual([
      ["alpha", "running", 2],
      ["beta", "running", 1],
    ]);
    await waitUntil(async () => (await statusOf("alpha")).replicasReady === 2, 60_000, 100);
    await second.deployments.delete("alpha");
    await second.deployments.delete("beta");
  });

  const realEntryPoints = ["worker", "balancer"].every((service) =>
    existsSync(fileURLToPath(new URL(`../../../${service}/src/main.ts`, import.meta.url))),
  );

  it.skipIf(!realEntryPoints)(
    "runs the real worker and balancer entry points: workers register and the balancer hands out every shard",
    { timeout: 120_000 },
    async () => {
      plane = createControlPlane({
        store: { kind: "file", path: storeFile },
        leases: { defaultTtlMs: 3000 },
        driver: localDriver({ workDir: join(directory, "real"), syncPeriodMs: 600_000, stopGraceMs: 5000 }),
      });
      await plane.start();
      const xml = `<project name="real"><contqueries><contquery name="q"><windows>
        <window-source name="trades"><schema-string>id*:int64,sym:string,price:double</schema-string></window-source>
        </windows></contquery></contqueries></project>`;
      await plane.deployments.deploy("real", xml, '{"minReplicas":2,"maxReplicas":2,"shards":64}');
      await waitUntil(
        async () => {
          const status = await statusOf("real");
          const owned = (status.workers ?? []).reduce((sum, worker) => sum + (worker.shardsOwned ?? 0), 0);
          return status.replicasReady === 2 && owned === 64;
        },
        90_000,
        200,
      );
      const status = await statusOf("real");
      expect(status.projectFormat).toBe("xml");
      expect(status.workers?.map((worker) => worker.id)).toEqual(["real-worker-0", "real-worker-1"]);
    },
  );
});
