import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { EspClient, Publisher } from "@espmesh/client";
import { parseSchemaString } from "@espmesh/events";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { createFrameWriter, renderLiveFrame } from "./live-table.js";
import { createTradeFeed } from "./trade-feed.js";

/** The demo project file: trades -> large trades (quantity >= 500) -> totals by symbol. */
export const DEMO_PROJECT_FILE = fileURLToPath(new URL("../../demo/trades.xml", import.meta.url));
/** Deployment name of the demo. */
export const DEMO_DEPLOYMENT = "trades";
/** The source window the demo publishes into, and the aggregate it shows. */
export const DEMO_SOURCE = "Trades";
export const DEMO_TOTALS = "BySymbol";
/** The `Trades` schema, so the publisher need not ask the mesh for it. */
const TRADES_SCHEMA = "tradeId*:int64,symbol:string,price:double,quantity:int32,time:stamp";
/** The aggregate is keyed by symbol, so trades are routed by symbol. */
const DEMO_SETTINGS = { routing: { [DEMO_SOURCE]: { policy: "consistent-hash", hashFields: ["symbol"] } } };

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly client: EspClient;
  /** Where the live table goes. */
  readonly write: (text: string) => void;
  /** Redraw the table in place (a terminal) instead of printing frame after frame. */
  readonly interactive: boolean;
  /** Trades published per second. */
  readonly rate: number;
  /** Ends the demo. */
  readonly signal: AbortSignal;
  /** How often the table is refreshed. @default 1000 */
  readonly refreshMs?: number;
  /** How long to wait for the first ready worker. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** How long the publisher may take to get its last trades acknowledged at the end. @default 2000 */
  readonly closeTimeoutMs?: number;
  /** @default noopLogger */
  readonly logger?: Logger;
}

function sleep(millis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, millis);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

async function workersOf(client: EspClient): Promise<{ ready: number; text: string }> {
  const status = await client.status(DEMO_DEPLOYMENT);
  return { ready: status.replicasReady, text: `${status.replicasReady}/${status.replicasDesired}` };
}

async function waitForWorkers(options: DemoOptions): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (!options.signal.aborted) {
    if ((await workersOf(options.client)).ready > 0) return;
    if (Date.now() > deadline) {
      throw new MeshError(
        "DEADLINE_EXCEEDED",
        `no worker of the demo became ready within ${options.readyTimeoutMs ?? 60_000} ms; see the log`,
      );
    }
    await sleep(200, options.signal);
  }
}

/** Publishes `rate` trades a second, in ten slices, until the signal; backpressure slows it. */
async function feedTrades(publisher: Publisher, options: DemoOptions, counter: { published: number }): Promise<void> {
  const feed = createTradeFeed();
  const perTick = Math.max(1, Math.round(options.rate / 10));
  let next = Date.now();
  while (!options.signal.aborted) {
    await publisher.publish(feed.next(perTick));
    counter.published += perTick;
    next += 100;
    await sleep(Math.max(0, next - Date.now()), options.signal);
  }
}

/** Refreshes the table every `refreshMs` until the signal. */
async function showTable(publisher: Publisher, options: DemoOptions, counter: { published: number }): Promise<void> {
  const writeFrame = createFrameWriter(options.write, options.interactive);
  const refreshMs = options.refreshMs ?? 1000;
  let lastAck = publisher.acknowledged;
  let lastAt = Date.now();
  let workers = "?";
  while (!options.signal.aborted) {
    let problem: string | undefined;
    let rows: Awaited<ReturnType<EspClient["query"]>> = [];
    try {
      rows = await options.client.query(DEMO_DEPLOYMENT, DEMO_TOTALS);
      workers = (await workersOf(options.client)).text;
    } catch (error) {
      problem = MeshError.from(error).message;
    }
    if (options.signal.aborted) return;
    const now = Date.now();
    const acknowledged = publisher.acknowledged;
    const eventsPerSecond = ((acknowledged - lastAck) * 1000) / Math.max(1, now - lastAt);
    lastAck = acknowledged;
    lastAt = now;
    writeFrame(
      renderLiveFrame({
        rows,
        published: counter.published,
        acknowledged,
        eventsPerSecond,
        workers,
        ...(problem === undefined ? {} : { problem }),
      }),
    );
    await sleep(refreshMs, options.signal);
  }
}

/** Closes the publisher, waiting at most `millis` for its last acknowledgements. */
async function closeWithin(publisher: Publisher, millis: number, logger: Logger): Promise<void> {
  const closed = publisher.close().then(
    () => true,
    (error: unknown) => {
      logger.warn({ err: MeshError.from(error) }, "the demo publisher closed with an error");
      return true;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), millis);
  });
  const done = await Promise.race([closed, late]);
  clearTimeout(timer);
  if (!done) logger.warn({ timeoutMs: millis }, "the demo publisher still had unacknowledged trades at the end");
}

/**
 * The demo of `espmesh up --demo`: deploys the trades project, publishes made-up trades through
 * the SDK and prints a live table of the large trades by symbol (top 10 by volume, with the
 * committed events per second), refreshed every second until the signal. Resolves once stopped;
 * rejects when the deployment or the publishing fails.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { client, signal } = options;
  const project = await readFile(DEMO_PROJECT_FILE, "utf8");
  await client.deploy(DEMO_DEPLOYMENT, project, DEMO_SETTINGS);
  await waitForWorkers(options);
  if (signal.aborted) return;
  const publisher = client.publisher(DEMO_DEPLOYMENT, DEMO_SOURCE, {
    schema: parseSchemaString(TRADES_SCHEMA),
    lingerMs: 20,
    maxRows: 1000,
    maxUnacked: 16,
    maxReconnectDelayMs: 1000,
    sourcePrefix: "demo",
  });
  const counter = { published: 0 };
  const stop = new AbortController();
  const inner: DemoOptions = { ...options, signal: AbortSignal.any([signal, stop.signal]) };
  // Either loop failing ends both; the first failure is the one reported.
  const results = await Promise.allSettled([
    feedTrades(publisher, inner, counter).finally(() => stop.abort()),
    showTable(publisher, inner, counter).finally(() => stop.abort()),
  ]);
  await closeWithin(publisher, options.closeTimeoutMs ?? 2000, options.logger ?? noopLogger);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure !== undefined) throw MeshError.from(failure.reason);
}
