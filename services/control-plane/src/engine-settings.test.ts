import { MeshError } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { compileDeploymentSettings } from "./deployment-settings.js";
import { engineProjectLoader } from "./project-shape.js";

// A real ESP XML project, loaded by @espmesh/engine: the settings are checked against its model.
const xml = `<project name="trading">
  <contqueries><contquery name="q">
    <windows>
      <window-source name="trades" insert-only="true" index="pi_EMPTY">
        <schema-string>id*:int64,sym:string,price:double</schema-string>
      </window-source>
      <window-source name="quotes"><schema-string>sym*:string,bid:double</schema-string></window-source>
      <window-aggregate name="bySymbol">
        <schema-string>sym*:string,total:double</schema-string>
        <output><field-expr>ESP_aSum(price)</field-expr></output>
      </window-aggregate>
      <window-join name="enriched">
        <join type="leftouter"><conditions><fields left="sym" right="sym"/></conditions></join>
        <output><field-selection name="price" source="l_price"/><field-selection name="bid" source="r_bid"/></output>
      </window-join>
    </windows>
    <edges><edge source="trades" target="bySymbol"/><edge source="trades quotes" target="enriched"/></edges>
  </contquery></contqueries>
</project>`;

async function messageOf(settings: object): Promise<string> {
  const { model } = await engineProjectLoader(xml, "trading");
  try {
    compileDeploymentSettings(settings, model);
  } catch (error) {
    if (error instanceof MeshError) return error.message;
    throw error;
  }
  return "accepted";
}

describe("deployment settings against a project loaded by the engine", () => {
  it("loads ESP XML and reports its format and source windows", async () => {
    const loaded = await engineProjectLoader(xml, "trading");
    expect(loaded.format).toBe("xml");
    expect([...loaded.model.sources].sort()).toEqual(["quotes", "trades"]);
  });

  it("accepts trades hashed on sym with quotes multicast, or both sides consistent-hashed on sym", async () => {
    expect(
      await messageOf({
        routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
      }),
    ).toBe("accepted");
    expect(await messageOf({ routing: { trades: { hashFields: ["sym"] } } })).toBe("accepted");
  });

  it("rejects the default routing of trades (its key id) because bySymbol groups by sym", async () => {
    expect(await messageOf({})).toContain(
      'window "bySymbol" keeps state by its group-by (sym) but source "trades" is routed by consistent-hash on (id): "id" is not part of that key',
    );
  });

  it("rejects a join whose sides use different policies", async () => {
    expect(await messageOf({ routing: { trades: { policy: "hash", hashFields: ["sym"] } } })).toContain(
      'window "enriched" joins source "trades" routed by hash with source "quotes" routed by consistent-hash',
    );
  });

  it("rejects a project the engine cannot load", async () => {
    await expect(engineProjectLoader("<project><nope/></project>", "bad")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
