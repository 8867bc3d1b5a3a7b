/**
 * The conformance case format and its runner (used by `conformance.test.ts`). A case file under
 * `libs/engine/test-cases/` is a YAML list of cases:
 *
 * ```yaml
 * - name: filter passes rows whose expression is true
 *   project: |            # ESP XML, YAML or JSON (sniffed)
 *     ...
 *   steps:
 *     - in: src             # a source window; its events go in as one batch
 *       events:
 *         - { op: insert, id: 1, price: 5 }   # op defaults to insert
 *       out:                # expected events of these windows, in order (others unchecked)
 *         big: [ { op: insert, id: 1, price: 5 } ]
 *       bad: 0              # total bad events so far (optional)
 *     - advance: 5000000    # engine.advance(µs); `out` as above
 *   final:                  # rows of engine.query(window), compared as sets
 *     big: [ { id: 1, price: 5 } ]
 * - name: an unknown element is a load error
 *   project: ...
 *   error: "line 4.*window-foo"   # loadProject must throw a message matching this
 * ```
 */
import { batchToEvents, createBatchBuilder, opcodeOf, type Row, type Value } from "@espmesh/events";
import { createEngine, type Engine, type OutputSet } from "../engine/engine.js";
import { loadProject } from "../model/load-project.js";

/** One step of a case. */
export interface CaseStep {
  readonly in?: string;
  readonly events?: readonly Record<string, unknown>[];
  readonly advance?: number;
  readonly out?: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  readonly bad?: number;
}

/** One conformance case. */
export interface ConformanceCase {
  readonly name: string;
  readonly project: string;
  readonly steps?: readonly CaseStep[];
  readonly final?: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  readonly error?: string;
  /** Engine clock: the time of the last advance (default) or fixed steps. */
  readonly shardCount?: number;
}

/** A difference between expected and actual, or undefined when they match. */
export type Mismatch = string | undefined;

function close(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/** Compares one actual event/row with an expected one: every expected field must match. */
function matches(actual: Row & { op?: string }, expected: Record<string, unknown>): boolean {
  for (const [name, value] of Object.entries(expected)) {
    const got = (actual as Record<string, unknown>)[name];
    if (value === null ? got !== null : !close(got, value)) return false;
  }
  return true;
}

function describe(value: unknown): string {
  return JSON.stringify(value);
}

function eventsOf(out: OutputSet, window: string): (Row & { op: string })[] {
  const batch = out.get(window);
  if (batch === undefined) return [];
  return batchToEvents(batch).map((event) => ({ op: event.opcode, ...event.fields }));
}

function compareEvents(
  step: number,
  window: string,
  actual: (Row & { op: string })[],
  expected: readonly Record<string, unknown>[],
): Mismatch {
  const wanted = expected.map((event) => ({ op: "insert", ...event }));
  if (actual.length !== wanted.length || actual.some((event, i) => !matches(event, wanted[i]!))) {
    return `step ${step}, window ${window}:\n  expected ${describe(wanted)}\n  got      ${describe(actual)}`;
  }
  return undefined;
}

function compareRows(window: string, actual: Row[], expected: readonly Record<string, unknown>[]): Mismatch {
  const remaining = [...actual];
  for (const row of expected) {
    const index = remaining.findIndex((candidate) => matches(candidate, row));
    if (index < 0) return `final ${window}: expected row ${describe(row)} not found in ${describe(actual)}`;
    remaining.splice(index, 1);
  }
  if (remaining.length > 0) return `final ${window}: unexpected rows ${describe(remaining)}`;
  return undefined;
}

function feed(engine: Engine, window: string, events: readonly Record<string, unknown>[]): OutputSet {
  const schema = engine.model.window(window)!.schema;
  const builder = createBatchBuilder(schema, Math.max(1, events.length));
  for (const event of events) {
    const { op, ...fields } = event as { op?: string } & Record<string, Value>;
    builder.append(fields, opcodeOf(op ?? "insert"));
  }
  return engine.process(window, builder.seal());
}

/** Runs a case; returns the first mismatch or undefined when it passes. */
export function runCase(testCase: ConformanceCase): Mismatch {
  if (testCase.error !== undefined) {
    try {
      loadProject(testCase.project);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return new RegExp(testCase.error, "s").test(message)
        ? undefined
        : `error "${message}" does not match /${testCase.error}/`;
    }
    return `expected a load error matching /${testCase.error}/, the project loaded`;
  }
  const model = loadProject(testCase.project);
  const engine = createEngine(model, { shardCount: testCase.shardCount ?? 16 });
  for (const [i, step] of (testCase.steps ?? []).entries()) {
    let out: OutputSet;
    if (step.in !== undefined) out = feed(engine, step.in, step.events ?? []);
    else if (step.advance !== undefined) out = engine.advance(step.advance);
    else return `step ${i + 1}: needs "in" or "advance"`;
    for (const [window, expected] of Object.entries(step.out ?? {})) {
      const mismatch = compareEvents(i + 1, window, eventsOf(out, window), expected);
      if (mismatch !== undefined) return mismatch;
    }
    if (step.bad !== undefined && engine.badEvents.total !== step.bad) {
      return `step ${i + 1}: expected ${step.bad} bad events so far, got ${engine.badEvents.total}`;
    }
  }
  for (const [window, expected] of Object.entries(testCase.final ?? {})) {
    const rows = batchToEvents(engine.query(window)).map((event) => event.fields);
    const mismatch = compareRows(window, rows, expected);
    if (mismatch !== undefined) return mismatch;
  }
  return undefined;
}
