import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deployTrades, type Fixture, json, startFixture } from "./test-support/fixture.js";

// The mesh here is a stand-in (test-support/mesh-stand-in.ts): a real gRPC server implementing
// ControlService and IngestService in memory, because the real mesh is not runnable yet.
describe("gateway event routes", () => {
  let fixture: Fixture;
  const state = async () => {
    const response = await fixture.request("GET", "/v1/projects/trades/windows/trades/state");
    expect(response.status).toBe(200);
    const rows: { id: number }[] = await json(response);
    return rows.sort((a, b) => a.id - b.id);
  };

  beforeAll(async () => {
    fixture = await startFixture({ bodyLimit: 64 * 1024 });
  });
  beforeEach(async () => {
    await deployTrades(fixture); // a fresh, empty deployment for every test
  });
  afterAll(async () => {
    await fixture?.stop();
  });

  it("commits a JSON array of events as one batch and answers 200 with the count; the state shows them", async () => {
    const published = fixture.mesh.publishedBatches;
    const response = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: [
        { id: 1, symbol: "IBM", price: 101.5, quantity: 200 },
        { id: 2, symbol: "AAPL", price: 180.25, quantity: 50 },
      ],
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ accepted: 2 });
    expect(fixture.mesh.publishedBatches).toBe(published + 1);
    expect(await state()).toEqual([
      { id: 1, symbol: "IBM", price: 101.5, quantity: 200 },
      { id: 2, symbol: "AAPL", price: 180.25, quantity: 50 },
    ]);
  });

  it("applies NDJSON events with their _opcode: an upsert changes a row, a delete removes one", async () => {
    const ndjson = [
      '{"id": 1, "symbol": "IBM", "price": 100, "quantity": 10}',
      '{"id": 2, "symbol": "MSFT", "price": 300, "quantity": 20}',
      "",
      '{"id": 1, "symbol": "IBM", "price": 105, "quantity": 15, "_opcode": "upsert"}',
      '{"id": 2, "_opcode": "delete"}',
    ].join("\n");
    const response = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: ndjson,
      type: "application/x-ndjson",
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ accepted: 4 });
    expect(await state()).toEqual([{ id: 1, symbol: "IBM", price: 105, quantity: 15 }]);
  });

  it("reads CSV with a header row in any column order, empty cells as null and an opcode column", async () => {
    const csv = 'symbol,id,quantity,price,opcode\nIBM,1,10,100.5,i\n"Alpha, Inc",2,,7,insert\nIBM,1,12,101,u\n';
    const response = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: csv,
      type: "text/csv",
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ accepted: 3 });
    expect(await state()).toEqual([
      { id: 1, symbol: "IBM", price: 101, quantity: 12 },
      { id: 2, symbol: "Alpha, Inc", price: 7, quantity: null },
    ]);
  });

  it("answers 202 once accepted with wait=false, and the events are committed afterwards", async () => {
    const response = await fixture.request("POST", "/v1/projects/trades/windows/trades/events?wait=false", {
      body: [{ id: 7, symbol: "X", price: 1, quantity: 1 }],
    });
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ accepted: 1 });
    for (let attempt = 0; attempt < 100 && (await state()).length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await state()).toEqual([{ id: 7, symbol: "X", price: 1, quantity: 1 }]);
  });

  it("refuses a type error in row 3 with 400 naming row 3 and the field, applying nothing of the request", async () => {
    const seeded = [{ id: 100, symbol: "SEED", price: 1, quantity: 1 }];
    expect((await fixture.request("POST", "/v1/projects/trades/windows/trades/events", { body: seeded })).status).toBe(
      200,
    );
    const published = fixture.mesh.publishedBatches;
    const response = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: [
        { id: 1, symbol: "IBM", price: 1, quantity: 1 },
        { id: 2, symbol: "IBM", price: 2, quantity: 2 },
        { id: 3, symbol: "IBM", price: "three", quantity: 3 },
        { id: 4, symbol: "IBM", price: 4, quantity: 4 },
      ],
    });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("row 3");
    expect(error.message).toContain('field "price"');
    expect(error.details).toMatchObject({ row: 3, field: "price", window: "trades" });
    expect(fixture.mesh.publishedBatches).toBe(published);
    expect(await state()).toEqual(seeded);
  });

  it("names row 3 and its line for a CSV type error and an unknown CSV column, applying nothing", async () => {
    const bad = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: "id,symbol,price,quantity\n1,A,1,1\n2,B,2,2\n3,C,3,lots\n",
      type: "text/csv",
    });
    expect(bad.status).toBe(400);
    const { error } = await json(bad);
    expect(error.details).toMatchObject({ row: 3, line: 4, field: "quantity" });
    const unknown = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: "id,colour\n1,red\n",
      type: "text/csv",
    });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.message).toContain('no field "colour"');
    expect(await state()).toEqual([]);
  });

  it("refuses malformed JSON and malformed NDJSON with 400, applying nothing", async () => {
    const malformed = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: '[{"id": 1, "symbol": "A"',
    });
    expect(malformed.status).toBe(400);
    const { error } = await json(malformed);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("malformed JSON");
    const ndjson = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: '{"id": 1, "symbol": "A", "price": 1, "quantity": 1}\n{"id": 2,\n',
      type: "application/x-ndjson",
    });
    expect(ndjson.status).toBe(400);
    expect((await json(ndjson)).error.details).toMatchObject({ row: 2, line: 2 });
    expect(await state()).toEqual([]);
  });

  it("answers 404 for an unknown project or window and 400 for a window that is not a source", async () => {
    const row = [{ id: 1, symbol: "A", price: 1, quantity: 1 }];
    const project = await fixture.request("POST", "/v1/projects/nope/windows/trades/events", { body: row });
    expect(project.status).toBe(404);
    expect((await json(project)).error.code).toBe("NOT_FOUND");
    const window = await fixture.request("POST", "/v1/projects/trades/windows/nope/events", { body: row });
    expect(window.status).toBe(404);
    expect((await json(window)).error.code).toBe("NOT_FOUND");
    const derived = await fixture.request("POST", "/v1/projects/trades/windows/big/events", { body: row });
    expect(derived.status).toBe(400);
    expect((await json(derived)).error.message).toContain("not a source window");
    expect((await fixture.request("GET", "/v1/projects/trades/windows/nope/state")).status).toBe(404);
    expect((await fixture.request("GET", "/v1/projects/nope/windows/trades/state")).status).toBe(404);
    expect(await state()).toEqual([]);
  });

  it("refuses a body over the limit with 413 and an unsupported media type with 415, applying nothing", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, symbol: "PADDING-PADDING", price: i, quantity: i }));
    const large = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", { body: rows });
    expect(large.status).toBe(413);
    expect((await json(large)).error.code).toBe("RESOURCE_EXHAUSTED");
    const text = await fixture.request("POST", "/v1/projects/trades/windows/trades/events", {
      body: "hello",
      type: "text/plain",
    });
    expect(text.status).toBe(415);
    expect(await state()).toEqual([]);
  });
});

describe("gateway publishing under concurrent load", () => {
  it("answers a committed request while other requests keep the shared publisher busy", async () => {
    // Acks are delayed like a worker's checkpoint interval, so some batch is always unacknowledged.
    const fixture = await startFixture({ commitTimeoutMs: 5000 }, { ackDelayMs: 30 });
    try {
      await deployTrades(fixture);
      const path = "/v1/projects/trades/windows/trades/events";
      let busy = true;
      const background = (async () => {
        for (let id = 1000; busy && id < 100_000; id++) {
          const response = await fixture.request("POST", `${path}?wait=false`, {
            body: [{ id, symbol: "BG", price: 1, quantity: 1 }],
          });
          expect(response.status).toBe(202);
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const committed = await fixture.request("POST", path, { body: [{ id: 1, symbol: "FG", price: 1, quantity: 1 }] });
      busy = false;
      await background;
      expect(committed.status).toBe(200);
      expect(await json(committed)).toEqual({ accepted: 1 });
    } finally {
      await fixture.stop();
    }
  });
});
