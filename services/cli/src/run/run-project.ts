import { existsSync, readFileSync } from "node:fs";
import { createEngine, type Engine, loadProject, type OutputSet, type ProjectModel } from "@espmesh/engine";
import { type Batch, batchToEvents, createBatchBuilder, type Row, type Value } from "@espmesh/events";
import type { CliIo } from "../main.js";
import { FinalTables } from "./final-tables.js";
import { InputError, type InputRecord, inputFormat, readInput } from "./read-input.js";

/** Options of {@link runProject}; see `espmesh run --help`. */
export interface RunProjectOptions {
  /** Path of the project file (ESP XML, YAML or JSON). */
  project: string;
  /** `WINDOW=FILE` pairs, fed in this order. */
  inputs: readonly string[];
  /** Windows to print. @default every window */
  outputs?: readonly string[];
  /** Print final rows instead of events. @default false */
  final?: boolean;
  /** Merge inputs by this field. @default none: files one after another */
  orderBy?: string | undefined;
  /** Events per batch. @default 1, or 4096 with `final` */
  batchSize?: number | undefined;
  /** Engine shard count. @default 4096 */
  shardCount?: number;
}

function formatOf(path: string): "xml" | "yaml" | "json" | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".xml")) return "xml";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  if (lower.endsWith(".json")) return "json";
  return undefined;
}

function jsonValue(value: Value): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
}

function jsonFields(fields: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) out[name] = jsonValue(value);
  return out;
}

function compareBy(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

interface Input {
  readonly window: string;
  readonly file: string;
}

function parseInputs(model: ProjectModel, specs: readonly string[]): Input[] {
  if (specs.length === 0) throw new InputError("give at least one --input WINDOW=FILE");
  return specs.map((spec) => {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) throw new InputError(`--input "${spec}": expected WINDOW=FILE`);
    const window = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    const model_ = model.window(window);
    if (model_ === undefined)
      throw new InputError(`--input ${spec}: project "${model.name}" has no window "${window}"`);
    if (model_.inputs.length > 0) throw new InputError(`--input ${spec}: "${window}" is not a source window`);
    if (!existsSync(file)) throw new InputError(`--input ${spec}: file "${file}" does not exist`);
    inputFormat(file);
    return { window, file };
  });
}

/** All records in feeding order: files one after another, or merged by a field (stable). */
async function* records(
  model: ProjectModel,
  inputs: readonly Input[],
  orderBy: string | undefined,
): AsyncGenerator<InputRecord> {
  if (orderBy === undefined) {
    for (const input of inputs) yield* readInput(input.file, input.window, model.window(input.window)!.schema);
    return;
  }
  const all: { record: InputRecord; key: Value; order: number }[] = [];
  for (const input of inputs) {
    const schema = model.window(input.window)!.schema;
    const index = schema.indexOf(orderBy);
    if (index < 0)
      throw new InputError(`--order-by ${orderBy}: window "${input.window}" (${input.file}) has no field "${orderBy}"`);
    for await (const record of readInput(input.file, input.window, schema)) {
      all.push({ record, key: record.values[index] ?? null, order: all.length });
    }
  }
  all.sort((a, b) => compareBy(a.key, b.key) || a.order - b.order);
  for (const item of all) yield item.record;
}

/**
 * Runs a project over input files and writes JSON lines to `io.out`: every event of the chosen
 * windows, or with `final` their final rows sorted by key. Returns the exit code: 0, or 1 after
 * writing a message naming the file, line and field of bad input.
 */
export async function runProject(options: RunProjectOptions, io: CliIo): Promise<number> {
  let model: ProjectModel;
  try {
    const text = readFileSync(options.project, "utf8");
    const format = formatOf(options.project);
    model = loadProject(text, format === undefined ? {} : { format });
  } catch (error) {
    io.err(`${options.project}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  try {
    const inputs = parseInputs(model, options.inputs);
    const outputs =
      options.outputs !== undefined && options.outputs.length > 0 ? options.outputs : model.windows.map((w) => w.name);
    for (const name of outputs) {
      if (model.window(name) === undefined)
        throw new InputError(`--output: project "${model.name}" has no window "${name}"`);
    }
    const printed = new Set(outputs);
    const order = model.windows.map((w) => w.name).filter((name) => printed.has(name));
    const final = options.final === true;
    const batchSize = options.batchSize ?? (final ? 4096 : 1);
    const engine = createEngine(model, { shardCount: options.shardCount ?? 4096, clock: () => Date.now() * 1000 });
    const tables = new FinalTables(model, order);
    const emit = (out: OutputSet) => {
      for (const name of order) {
        const batch = out.get(name);
        if (batch === undefined) continue;
        if (final) tables.apply(name, batch);
        else
          for (const event of batchToEvents(batch))
            io.out(`${JSON.stringify({ window: name, opcode: event.opcode, fields: jsonFields(event.fields) })}\n`);
      }
    };
    await feed(engine, records(model, inputs, options.orderBy), batchSize, emit);
    emit(engine.advance(Date.now() * 1000));
    if (final)
      for (const { window, fields } of tables.rows())
        io.out(`${JSON.stringify({ window, fields: jsonFields(fields) })}\n`);
    const bad = engine.badEvents;
    if (bad.total > 0) {
      const byWindow = [...bad.byWindow].map(([window, count]) => `${window}: ${count}`).join(", ");
      io.err(`espmesh run: ${bad.total} event(s) rejected (${byWindow})\n`);
      for (const event of bad.recent.slice(0, 10))
        io.err(`  ${event.window}: ${event.reason} (key ${JSON.stringify(event.key.map(jsonValue))})\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function feed(
  engine: Engine,
  source: AsyncGenerator<InputRecord>,
  batchSize: number,
  emit: (out: OutputSet) => void,
): Promise<void> {
  let window: string | undefined;
  let builder: ReturnType<typeof createBatchBuilder> | undefined;
  const flush = () => {
    if (builder === undefined || builder.length === 0 || window === undefined) return;
    const batch: Batch = builder.seal();
    emit(engine.process(window, batch));
    emit(engine.advance(Date.now() * 1000));
  };
  for await (const record of source) {
    if (record.window !== window || builder === undefined) {
      flush();
      window = record.window;
      builder = createBatchBuilder(engine.model.window(window)!.schema, batchSize);
    }
    builder.appendValues(record.values, record.opcode);
    if (builder.length >= batchSize) flush();
  }
  flush();
}
