import { freePort } from "@espmesh/testing";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { DEMO_PROJECT_FILE } from "../up/demo.js";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["node", "espmesh", ...args], {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  return { code, out, err };
}

describe("the mesh commands", () => {
  it.each([
    ["up", /--workers <n>[\s\S]*--redis <url>[\s\S]*--demo[\s\S]*ESPMESH_API_TOKEN/],
    ["deploy", /--hash-fields <a,b>[\s\S]*--settings <json\|@file>[\s\S]*--address <host:port>/],
    ["publish", /<project> <window> <file>[\s\S]*progress bar/],
    ["subscribe", /--snapshot[\s\S]*"opcode":"insert"/],
    ["status", /\[project\][\s\S]*--json/],
  ])("explain %s with --help", async (command, expected) => {
    const { code, out } = await cli(command, "--help");
    expect(code).toBe(0);
    expect(out).toMatch(expected);
  });

  it("names the address and exits 1 when no mesh answers there", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { code, err } = await cli("status", "--address", address);
    expect(code).toBe(1);
    expect(err).toBe(
      `espmesh: cannot reach the mesh at ${address}: is \`espmesh up\` running there? (set --address or ESPMESH_ADDRESS)\n`,
    );
  });

  it("exits 1 with the reason when a deploy flag is wrong", async () => {
    const { code, err } = await cli("deploy", DEMO_PROJECT_FILE, "--min-replicas", "lots");
    expect(code).toBe(1);
    expect(err).toMatch(/--min-replicas must be an integer, got "lots"/);
  });
});
