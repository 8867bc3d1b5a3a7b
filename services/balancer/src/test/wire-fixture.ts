import { type Batch, parseSchemaString, rowsToBatch } from "@espmesh/events";

/** A schema with every column type the wire carries, for the encoder and wire-row tests. */
export const allTypesSchema = parseSchemaString(
  "id*:int64,name:string,price:double,qty:int32,ok:boolean,at:stamp,cash:money,blob:blob,day:date",
);

/** 37 rows of {@link allTypesSchema} with nulls, negatives, multi-byte text and blobs. */
export const allTypesRows = Array.from({ length: 37 }, (_, i) => ({
  id: i % 2 === 0 ? i * 1000 : -i - 1,
  name: i % 4 === 0 ? null : `näme-${i}-${"x".repeat(i % 40)}`,
  price: i / 3,
  qty: i % 5 === 0 ? null : -i,
  ok: i % 2 === 0,
  at: 1_700_000_000_000_000 + i,
  cash: i + 0.25,
  blob: new Uint8Array([i, i + 1, i + 2]),
  day: 19_000 + i,
}));

/** The rows as one batch; every third row an upsert, the others inserts. */
export const allTypesBatch: Batch = rowsToBatch(
  allTypesSchema,
  allTypesRows,
  allTypesRows.map((_, i) => (i % 3 === 0 ? "upsert" : "insert")),
);
