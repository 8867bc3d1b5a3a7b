import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { compileDeploymentSettings, ROUTING_POLICIES } from "../deployment-settings.js";
import { engineProjectLoader } from "../project-shape.js";
import { type EspProject, settingsOfSpec } from "./esp-project.js";

const deploy = (path: string) => fileURLToPath(new URL(`../../../../deploy/${path}`, import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: reading a parsed YAML document.
type Json = any;

describe("deploy/ files", () => {
  it("ships the same EspProject CRD in deploy/crds and in the Helm chart", async () => {
    const source = await readFile(deploy("crds/espproject.yaml"), "utf8");
    expect(await readFile(deploy("helm/espmesh/crds/espproject.yaml"), "utf8")).toBe(source);
  });

  it("gives the CRD every deployment setting, with the policies and state backends the control plane knows", async () => {
    const crd: Json = parse(await readFile(deploy("crds/espproject.yaml"), "utf8"));
    const version = crd.spec.versions[0];
    expect(crd.metadata.name).toBe("espprojects.espmesh.io");
    expect(version.subresources).toEqual({ status: {} });
    const spec = version.schema.openAPIV3Schema.properties.spec;
    for (const key of [
      "project",
      "image",
      "routing",
      "minReplicas",
      "maxReplicas",
      "targetCpuUtilization",
      "state",
      "shards",
      "checkpointIntervalMs",
      "bindings",
      "natsUrl",
    ]) {
      expect(spec.properties).toHaveProperty(key);
    }
    expect(spec.properties.routing.additionalProperties.properties.policy.enum).toEqual([...ROUTING_POLICIES]);
    expect(spec.properties.state.enum).toEqual(["service", "none"]);
    const bindings = spec.properties.bindings.properties;
    expect(Object.keys(bindings.outputs.additionalProperties.properties).sort()).toEqual(["stream", "subject"]);
    expect(Object.keys(bindings.inputs.additionalProperties.properties).sort()).toEqual([
      "durable",
      "stream",
      "subject",
    ]);
  });

  it("has an example EspProject whose project and settings validate", async () => {
    const example = parse(await readFile(deploy("examples/espproject-trading.yaml"), "utf8")) as EspProject;
    const { model, format } = await engineProjectLoader(example.spec.project, example.metadata.name);
    expect(format).toBe("xml");
    const settings = compileDeploymentSettings(settingsOfSpec(example.spec), model);
    expect(settings).toMatchObject({ minReplicas: 2, maxReplicas: 8, routing: { quotes: { policy: "multicast" } } });
  });

  it("has a cascade example: stage 2's input binding reads the subject stage 1's output binding writes", async () => {
    const text = await readFile(deploy("examples/espproject-cascade.yaml"), "utf8");
    const [stage1, stage2] = parseAllDocuments(text).map((document) => document.toJS() as EspProject);
    const compiled = [];
    for (const example of [stage1!, stage2!]) {
      const { model } = await engineProjectLoader(example.spec.project, example.metadata.name);
      compiled.push(compileDeploymentSettings(settingsOfSpec(example.spec), model));
    }
    const output = compiled[0]?.bindings?.outputs.cost;
    const input = compiled[1]?.bindings?.inputs.large;
    expect(output).toMatchObject({ subject: "trades.large", stream: "LARGE" });
    expect(input).toMatchObject({ subject: output?.subject, stream: output?.stream, durable: "totals-large" });
  });
});
