/** Content type of a columnar batch message: the protobuf `espmesh.v1.Batch`, schema included. */
export const BATCH_CONTENT_TYPE = "application/x-espmesh-batch";

/** Content type of a JSON message: one object of field values, or an array of them. */
export const JSON_CONTENT_TYPE = "application/json";

/** The header that carries the content type. */
export const CONTENT_TYPE_HEADER = "Content-Type";

/** The media type of a Content-Type value: lower case, without parameters (`; charset=...`). */
export function mediaType(value: string | undefined): string {
  if (value === undefined) return "";
  const semicolon = value.indexOf(";");
  return (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}
