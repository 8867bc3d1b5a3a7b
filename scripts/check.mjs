// `npm run check`: typecheck, Biome, buf lint, generated-code drift and the Helm chart
// (scripts/helm-check.mjs: helm lint and render), in that order.
// Stops at the first failure and names it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const steps = [
  ["typecheck", "tsc", ["-p", "tsconfig.json"]],
  ["lint", "biome", ["check", "."]],
  ["buf lint", "buf", ["lint"]],
];

function run(name, command, args) {
  process.stdout.write(`check: ${name}\n`);
  try {
    execFileSync(command, args, { stdio: "inherit" });
  } catch {
    process.stderr.write(`check: ${name} failed\n`);
    process.exit(1);
  }
}

for (const [name, command, args] of steps) run(name, command, args);

const out = mkdtempSync(join(tmpdir(), "espmesh-gen-"));
try {
  run("buf generate (drift)", "buf", ["generate", "--output", out]);
  run("generated code matches proto/", "diff", ["-r", join(out, "libs/proto/src/gen"), "libs/proto/src/gen"]);
} finally {
  rmSync(out, { recursive: true, force: true });
}
run("helm chart", process.execPath, ["scripts/helm-check.mjs"]);
process.stdout.write("check: all passed\n");
