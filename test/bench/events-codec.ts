/**
 * events-codec: columnar batches (`espmesh.v1.Batch` through `@espmesh/events`) against the same
 * events as repeated row messages, both with protobuf-es, for 1000-event batches of 6 fields
 * (string key, int32, int64, double, stamp, string). Encode = in-memory events to wire bytes;
 * decode = wire bytes to in-memory events.
 *
 * The row baseline is favoured: its messages are built once outside the timed loop (encode is
 * `toBinary` alone), and its decode stops at protobuf-es messages.
 */
import { create, createFileRegistry, type DescMessage, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import {
  type Batch,
  createSchemaCache,
  decodeBatch,
  encodeBatch,
  parseSchemaString,
  rowsToBatch,
} from "@espmesh/events";
import { BatchSchema } from "@espmesh/proto";
import { emit, measure, printTable } from "./lib/report.js";

const EVENTS = 1000;
/** Measuring time per figure and case, split into interleaved rounds. */
const MS = Number(process.env.BENCH_MS ?? 2000);
const ROUNDS = 5;
const CPU_CALLS = 400;

/** The row message of the baseline, declared in code (no .proto outside proto/espmesh). */
function rowDescriptors(): { rows: DescMessage; row: DescMessage } {
  const { OPTIONAL, REPEATED } = FieldDescriptorProto_Label;
  const T = FieldDescriptorProto_Type;
  const field = (name: string, number: number, type: FieldDescriptorProto_Type, typeName?: string) => ({
    name,
    number,
    type,
    label: typeName === undefined ? OPTIONAL : REPEATED,
    jsonName: name,
    ...(typeName === undefined ? {} : { typeName }),
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "bench/rows.proto",
    package: "bench.v1",
    syntax: "proto3",
    messageType: [
      {
        name: "EventRow",
        field: [
          field("opcode", 1, T.UINT32),
          field("key", 2, T.STRING),
          field("qty", 3, T.INT32),
          field("total", 4, T.INT64),
          field("price", 5, T.DOUBLE),
          field("stamp", 6, T.INT64),
          field("note", 7, T.STRING),
        ],
      },
      { name: "EventRows", field: [field("rows", 1, T.MESSAGE, ".bench.v1.EventRow")] },
    ],
  });
  const registry = createFileRegistry(file, () => undefined);
  const row = registry.getMessage("bench.v1.EventRow");
  const rows = registry.getMessage("bench.v1.EventRows");
  if (row === undefined || rows === undefined) throw new Error("row descriptors missing");
  return { rows, row };
}

const schema = parseSchemaString("key*:string,qty:int32,total:int64,price:double,stamp:stamp,note:string");

function makeRows(nonAscii: boolean) {
  const rows = [];
  for (let i = 0; i < EVENTS; i++) {
    rows.push({
      key: `key-${String(i * 7919).padStart(7, "0")}`,
      qty: (i * 37) % 5000,
      total: 1_000_000_000_000 + i * 977,
      price: 100 + i * 0.25,
      stamp: 1_715_000_000_000_000 + i * 1500,
      note: `${nonAscii && i % 10 === 0 ? "réf" : "ref"} ${i % 97} ${"x".repeat(i % 9)}`,
    });
  }
  return rows;
}

function run(label: string, batch: Batch, includeSchema: boolean) {
  const { rows: rowsDesc, row: rowDesc } = rowDescriptors();
  const rowMessage = create(rowsDesc, {
    rows: batchRows(batch).map((r, i) =>
      create(rowDesc, {
        opcode: batch.opcodes[i],
        key: r.key,
        qty: r.qty,
        total: BigInt(r.total as number),
        price: r.price,
        stamp: BigInt(r.stamp as number),
        note: r.note,
      }),
    ),
  } as never) as Message;
  const rowBytes = toBinary(rowsDesc, rowMessage);

  const cache = createSchemaCache();
  let seq = 0;
  const encodeOptions = () => ({ window: "trades", origin: { sourceId: "bench", seq: ++seq }, includeSchema });
  // A stream sends the schema with its first batch; later batches may carry only the fingerprint.
  decodeBatch(encodeBatch(batch, { window: "trades" }), cache);
  const columnBytes = toBinary(BatchSchema, encodeBatch(batch, encodeOptions()));
  // Sanity: the columnar round trip gives back the events.
  const back = decodeBatch(fromBinary(BatchSchema, columnBytes), cache);
  if (
    back.length !== EVENTS ||
    (back.columns[5]!.values as string[])[10] !== (batch.columns[5]!.values as string[])[10]
  ) {
    throw new Error("columnar round trip differs");
  }

  let sink = 0;
  const figures = { encode: 0, decode: 0, rowEncode: 0, rowDecode: 0 };
  const runs: Record<keyof typeof figures, () => void> = {
    encode: () => {
      sink += toBinary(BatchSchema, encodeBatch(batch, encodeOptions())).length;
    },
    decode: () => {
      sink += decodeBatch(fromBinary(BatchSchema, columnBytes), cache).length;
    },
    rowEncode: () => {
      sink += toBinary(rowsDesc, rowMessage).length;
    },
    rowDecode: () => {
      sink += (fromBinary(rowsDesc, rowBytes) as unknown as { rows: unknown[] }).rows.length;
    },
  };
  // Interleaved rounds, best of each: the machine may be shared, and a burst of load elsewhere
  // should not land on one side of the comparison only.
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of Object.keys(runs) as (keyof typeof figures)[]) {
      figures[key] = Math.max(figures[key], measure(runs[key], EVENTS, MS / ROUNDS));
    }
  }
  // Events per second of this process's CPU time: steadier than wall time on a shared machine.
  const perCpuSecond = (fn: () => void) => {
    const start = process.cpuUsage();
    for (let i = 0; i < CPU_CALLS; i++) fn();
    const used = process.cpuUsage(start);
    return (CPU_CALLS * EVENTS) / ((used.user + used.system) / 1e6);
  };
  const cpu = { encode: perCpuSecond(runs.encode), decode: perCpuSecond(runs.decode) };
  if (sink === 0) throw new Error("nothing measured");
  return {
    label,
    ...figures,
    cpu,
    columnBytesPerEvent: columnBytes.length / EVENTS,
    rowBytesPerEvent: rowBytes.length / EVENTS,
  };
}

function batchRows(batch: Batch) {
  const names = batch.schema.fields.map((f) => f.name);
  return Array.from({ length: batch.length }, (_, r) =>
    Object.fromEntries(names.map((name, f) => [name, (batch.columns[f]!.values as ArrayLike<unknown>)[r]])),
  );
}

const main = run("ASCII, schema by fingerprint", rowsToBatch(schema, makeRows(false)), false);
const withSchema = run("ASCII, schema in every batch", rowsToBatch(schema, makeRows(false)), true);
const nonAscii = run("10% non-ASCII notes", rowsToBatch(schema, makeRows(true)), false);

printTable(
  `events-codec: ${EVENTS}-event batches, 6 fields (string key, int32, int64, double, stamp, string)`,
  [main, withSchema, nonAscii].flatMap((r) => [
    {
      case: r.label,
      format: "columnar",
      "encode events/s": r.encode,
      "decode events/s": r.decode,
      "encode ev/cpu-s": r.cpu.encode,
      "decode ev/cpu-s": r.cpu.decode,
      "bytes/event": r.columnBytesPerEvent,
    },
    {
      case: r.label,
      format: "row messages",
      "encode events/s": r.rowEncode,
      "decode events/s": r.rowDecode,
      "encode ev/cpu-s": "",
      "decode ev/cpu-s": "",
      "bytes/event": r.rowBytesPerEvent,
    },
  ]),
);
emit(
  {
    bench: "events-codec",
    metric: "encode",
    value: Math.round(main.encode),
    unit: "events/s",
    baseline: Math.round(main.rowEncode),
  },
  {
    bench: "events-codec",
    metric: "decode",
    value: Math.round(main.decode),
    unit: "events/s",
    baseline: Math.round(main.rowDecode),
  },
  {
    bench: "events-codec",
    metric: "size",
    value: main.columnBytesPerEvent,
    unit: "bytes/event",
    baseline: main.rowBytesPerEvent,
  },
);
