import type { Row } from "@espmesh/events";

/** Symbols of the demo and where their prices start. */
const SYMBOLS: readonly (readonly [string, number])[] = [
  ["AAPL", 190],
  ["MSFT", 410],
  ["NVDA", 880],
  ["AMZN", 180],
  ["GOOG", 165],
  ["META", 480],
  ["TSLA", 175],
  ["IBM", 185],
  ["ORCL", 125],
  ["SAP", 180],
  ["INTC", 35],
  ["AMD", 160],
];

/** Options of {@link createTradeFeed}. */
export interface TradeFeedOptions {
  /** Random numbers in [0, 1). @default Math.random */
  random?: () => number;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
  /** The first trade id. @default 1 */
  firstId?: number;
}

/** An endless stream of made-up trades, rows of the demo's `Trades` window. */
export interface TradeFeed {
  /** The next `count` trades: `{tradeId, symbol, price, quantity, time}`. */
  next(count: number): Row[];
}

/**
 * Made-up trades: a dozen symbols, some traded more than others, each price a random walk;
 * quantities from 1 to 1000 in lots, so about half the trades are "large" (500 or more).
 */
export function createTradeFeed(options: TradeFeedOptions = {}): TradeFeed {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const prices = SYMBOLS.map(([, price]) => price);
  let id = options.firstId ?? 1;
  return {
    next(count) {
      const micros = now() * 1000;
      const rows: Row[] = [];
      for (let i = 0; i < count; i++) {
        // Squaring skews the pick towards the first symbols, so the table has a clear top.
        const index = Math.min(SYMBOLS.length - 1, Math.floor(random() ** 2 * SYMBOLS.length));
        const price = Math.max(1, (prices[index] ?? 1) * (1 + (random() - 0.5) * 0.002));
        prices[index] = price;
        rows.push({
          tradeId: id++,
          symbol: SYMBOLS[index]?.[0] ?? "?",
          price: Math.round(price * 100) / 100,
          quantity: 10 * (1 + Math.floor(random() * 100)),
          time: micros,
        });
      }
      return rows;
    },
  };
}
