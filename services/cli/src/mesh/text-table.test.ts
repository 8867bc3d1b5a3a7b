import { create } from "@bufbuild/protobuf";
import { DeploymentStatusSchema } from "@espmesh/proto";
import { describe, expect, it } from "vitest";
import { deploymentDetail, deploymentsTable } from "./status-table.js";
import { formatNumber, formatTable } from "./text-table.js";

describe("formatTable", () => {
  it("pads columns to their widest cell, numbers right-aligned", () => {
    const text = formatTable(
      [{ title: "NAME" }, { title: "N", align: "right" }],
      [
        ["a", "1"],
        ["longer", "1,000"],
      ],
    );
    expect(text).toBe("NAME        N\n------  -----\na           1\nlonger  1,000\n");
  });

  it("formats numbers with separators and fixed fraction digits", () => {
    expect(formatNumber(1234567.891)).toBe("1,234,568");
    expect(formatNumber(2.5, 2)).toBe("2.50");
  });
});

describe("status tables", () => {
  const status = create(DeploymentStatusSchema, {
    name: "trades",
    phase: "running",
    replicasDesired: 2,
    replicasReady: 1,
    balancerAddress: "127.0.0.1:7301",
    sourceWindows: ["Trades"],
    projectFormat: "xml",
    settingsJson: JSON.stringify({
      minReplicas: 1,
      maxReplicas: 4,
      targetCpuUtilization: 70,
      state: "service",
      shards: 4096,
      routing: { Trades: { policy: "consistent-hash", hashFields: ["symbol"] } },
    }),
    workers: [
      { id: "trades-worker-0", address: "127.0.0.1:4001", pid: 10, ready: true, shardsOwned: 4096, restarts: 1 },
      { id: "trades-worker-1", address: "", pid: 11, ready: false, shardsOwned: 0, restarts: 0 },
    ],
    balancerReachable: true,
    eventsPerSecond: 1234.4,
    inFlight: 3000n,
    heldEvents: 0n,
    shardMoves: 2048n,
    inputLag: [{ sourceWindow: "Trades", stream: "TRADES", durable: "trades-in", pending: 17n, ackPending: 3n }],
  });

  it("lists deployments with ready/desired workers and restarts", () => {
    const text = deploymentsTable([status]);
    expect(text.split("\n")[0]).toMatch(
      /^NAME\s+PHASE\s+READY\s+RESTARTS\s+EVENTS\/S\s+IN FLIGHT\s+BALANCER\s+SOURCES\s+MESSAGE$/,
    );
    expect(text).toMatch(/trades\s+running\s+1\/2\s+1\s+1234\s+3000\s+127\.0\.0\.1:7301\s+Trades/);
    const silent = deploymentsTable([{ ...status, balancerReachable: false }]);
    expect(silent).toMatch(/trades\s+running\s+1\/2\s+1\s+-\s+-\s+127\.0\.0\.1:7301/);
    expect(deploymentsTable([])).toBe("no deployments\n");
  });

  it("details one deployment: settings in words, then a line per worker", () => {
    const text = deploymentDetail(status);
    expect(text).toMatch(
      /settings {2}replicas 1\.\.4 at 70% CPU, state service, 4096 shards, routing Trades=consistent-hash\(symbol\)/,
    );
    expect(text).toMatch(/traffic {3}1234 events\/s, 3000 in flight, 0 held, 2048 shard moves/);
    expect(text).toMatch(/input {5}Trades <- TRADES\/trades-in: 17 pending, 3 awaiting commit/);
    expect(deploymentDetail({ ...status, balancerReachable: false })).toMatch(
      /traffic {3}unknown \(the balancer did not answer\)/,
    );
    expect(text).toMatch(/trades-worker-0\s+127\.0\.0\.1:4001\s+10\s+yes\s+4096\s+1/);
    expect(text).toMatch(/trades-worker-1\s+-\s+11\s+no\s+0\s+0/);
  });
});
