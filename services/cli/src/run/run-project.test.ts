import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliIo } from "../main.js";
import { runProject } from "./run-project.js";

const dir = mkdtempSync(join(tmpdir(), "espmesh-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function capture(): CliIo & { stdout: () => unknown[]; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stdout: () =>
      out
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line)),
    stderr: () => err,
  };
}

const project = file(
  "project.yaml",
  `name: p
windows:
  - { name: trades, kind: source, schema: "id*:int64,sym:string,qty:int32,time:stamp" }
  - { name: traders, kind: source, schema: "tid*:int64,name:string,time:stamp" }
  - name: bySym
    kind: aggregate
    inputs: [trades]
    schema: "sym*:string,total:int64"
    fields: { total: ESP_aSum(qty) }
`,
);

describe("espmesh run", () => {
  it("prints every output event of the chosen windows as JSON lines, CSV opcodes applied", async () => {
    const trades = file(
      "trades.csv",
      "id,sym,qty,time,opcode\n1,IBM,10,2024-05-01T00:00:00Z,insert\n2,IBM,5,1714521600000000,i\n1,IBM,7,,update\n",
    );
    const io = capture();
    const code = await runProject({ project, inputs: [`trades=${trades}`], outputs: ["bySym"] }, io);
    expect(io.stderr()).toBe("");
    expect(code).toBe(0);
    expect(io.stdout()).toEqual([
      { window: "bySym", opcode: "insert", fields: { sym: "IBM", total: 10 } },
      { window: "bySym", opcode: "update", fields: { sym: "IBM", total: 15 } },
      { window: "bySym", opcode: "update", fields: { sym: "IBM", total: 12 } },
    ]);
  });

  it("prints the final rows sorted by key with --final, from CSV and JSON lines", async () => {
    const csv = file("a.csv", "id,sym,qty,time\n3,SAS,1,\n1,IBM,2,\n");
    const jsonl = file("b.jsonl", '{"id":2,"sym":"AAPL","qty":4}\n\n{"id":3,"_opcode":"delete"}\n');
    const io = capture();
    const code = await runProject(
      { project, inputs: [`trades=${csv}`, `trades=${jsonl}`], outputs: ["trades", "bySym"], final: true },
      io,
    );
    expect(code).toBe(0);
    expect(io.stdout()).toEqual([
      { window: "trades", fields: { id: 1, sym: "IBM", qty: 2, time: null } },
      { window: "trades", fields: { id: 2, sym: "AAPL", qty: 4, time: null } },
      { window: "bySym", fields: { sym: "AAPL", total: 4 } },
      { window: "bySym", fields: { sym: "IBM", total: 2 } },
    ]);
  });

  it("merges input files by a field with --order-by", async () => {
    const trades = file("t.jsonl", '{"id":1,"sym":"A","qty":1,"time":10}\n{"id":2,"sym":"A","qty":1,"time":30}\n');
    const traders = file("r.jsonl", '{"tid":1,"name":"x","time":20}\n');
    const io = capture();
    await runProject(
      { project, inputs: [`trades=${trades}`, `traders=${traders}`], outputs: ["trades", "traders"], orderBy: "time" },
      io,
    );
    expect(io.stdout().map((line) => (line as { fields: { time: number } }).fields.time)).toEqual([10, 20, 30]);
  });

  it("stops with exit code 1 and names the file, line and field of bad input", async () => {
    const bad = file("bad.csv", "id,sym,qty,time\n1,IBM,10,\n2,IBM,ten,\n");
    const io = capture();
    expect(await runProject({ project, inputs: [`trades=${bad}`] }, io)).toBe(1);
    expect(io.stderr()).toMatch(/bad\.csv:3: field "qty": expected int32/);
    const badJson = file("bad.jsonl", '{"id":1,"sym":"A"}\n{"id":2,"colour":"red"}\n');
    const io2 = capture();
    expect(await runProject({ project, inputs: [`trades=${badJson}`] }, io2)).toBe(1);
    expect(io2.stderr()).toMatch(/bad\.jsonl:2: field "colour" is not a field of window "trades"/);
    const io3 = capture();
    expect(await runProject({ project, inputs: [`bySym=${bad}`] }, io3)).toBe(1);
    expect(io3.stderr()).toMatch(/"bySym" is not a source window/);
  });

  it("reports rejected events on stderr without failing", async () => {
    const trades = file("rejects.csv", "id,sym,qty,time,opcode\n9,IBM,1,,delete\n");
    const io = capture();
    expect(await runProject({ project, inputs: [`trades=${trades}`] }, io)).toBe(0);
    expect(io.stderr()).toMatch(/1 event\(s\) rejected \(trades: 1\)/);
  });
});
