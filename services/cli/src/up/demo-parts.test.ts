import { describe, expect, it } from "vitest";
import { createFrameWriter, renderLiveFrame } from "./live-table.js";
import { createTradeFeed } from "./trade-feed.js";

describe("the demo's trade feed", () => {
  it("makes trades with increasing ids, known symbols, lots of 10 up to 1000 and the clock's stamp", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const trades = createTradeFeed({ random, now: () => 1_700_000_000_000, firstId: 5 }).next(500);
    expect(trades.map((trade) => trade.tradeId)).toEqual(Array.from({ length: 500 }, (_, i) => i + 5));
    for (const trade of trades) {
      expect(trade.symbol).toMatch(/^[A-Z]{2,4}$/);
      expect(Number(trade.quantity) % 10).toBe(0);
      expect(trade.quantity).toBeGreaterThanOrEqual(10);
      expect(trade.quantity).toBeLessThanOrEqual(1000);
      expect(trade.price).toBeGreaterThan(0);
      expect(trade.time).toBe(1_700_000_000_000_000);
    }
    const large = trades.filter((trade) => Number(trade.quantity) >= 500).length;
    expect(large).toBeGreaterThan(150);
    expect(large).toBeLessThan(350);
  });
});

describe("the demo's live table", () => {
  it("shows events/s and the top symbols by volume", () => {
    const frame = renderLiveFrame({
      rows: [
        { symbol: "IBM", volume: 1300, trades: 2, avgPrice: 99.75, maxPrice: 100.5 },
        { symbol: "MSFT", volume: 5000, trades: 5, avgPrice: 300, maxPrice: 301.25 },
        { symbol: "SAP", volume: 10, trades: 1, avgPrice: 1, maxPrice: 1 },
      ],
      published: 12000,
      acknowledged: 11500,
      eventsPerSecond: 998.6,
      workers: "2/2",
      top: 2,
    });
    const lines = frame.split("\n");
    expect(lines[0]).toBe("trades demo | 999 events/s | 12,000 published, 11,500 committed | workers 2/2");
    expect(lines[1]).toMatch(/^SYMBOL\s+LARGE TRADES\s+VOLUME\s+AVG PRICE\s+MAX PRICE$/);
    expect(lines[3]).toMatch(/^MSFT\s+5\s+5,000\s+300\.00\s+301\.25$/);
    expect(lines[4]).toMatch(/^IBM\s+2\s+1,300\s+99\.75\s+100\.50$/);
    expect(frame).not.toMatch(/SAP/);
  });

  it("says why a refresh failed", () => {
    const frame = renderLiveFrame({
      rows: [],
      published: 0,
      acknowledged: 0,
      eventsPerSecond: 0,
      workers: "0/2",
      problem: "no worker is ready to answer",
    });
    expect(frame).toMatch(/\(refresh failed: no worker is ready to answer\)\n$/);
  });

  it("redraws in place on a terminal and appends frames elsewhere", () => {
    let terminal = "";
    const inPlace = createFrameWriter((text) => {
      terminal += text;
    }, true);
    inPlace("a\nb\n");
    inPlace("c\nd\n");
    expect(terminal).toBe("a\nb\n\u001b[2F\u001b[0Jc\nd\n");
    let piped = "";
    const appended = createFrameWriter((text) => {
      piped += text;
    }, false);
    appended("a\n");
    appended("b\n");
    expect(piped).toBe("a\n\nb\n\n");
  });
});
