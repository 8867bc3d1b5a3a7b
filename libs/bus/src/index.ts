/**
 * @packageDocumentation
 * NATS JetStream bindings for cascades: a {@link Bus} (connection that reconnects forever, stream
 * creation), output bindings that publish a window's batches to a subject with de-duplication ids,
 * and input bindings that read a durable pull consumer as batches in stream order, with the
 * consumer's lag as a metric. See the package README for the delivery guarantees.
 */
export { type Bus, type BusOptions, type CompiledBusOptions, compileBusOptions, createBus } from "./bus.js";
export { BATCH_CONTENT_TYPE, CONTENT_TYPE_HEADER, JSON_CONTENT_TYPE } from "./content-type.js";
export { type CompiledStreamOptions, compileStreamOptions, type StreamOptions } from "./ensure-stream.js";
export { createInputBinding, type InputBinding, type InputMessage } from "./input-binding.js";
export { OPCODE_FIELD } from "./input-decoder.js";
export {
  type CompiledInputBindingOptions,
  compileInputBindingOptions,
  type InputBindingOptions,
} from "./input-options.js";
export type { ConsumerLag } from "./lag-metric.js";
export { originMessageId, outputMessageId } from "./message-id.js";
export {
  type CompiledOutputBindingOptions,
  compileOutputBindingOptions,
  createOutputBinding,
  type OutputBinding,
  type OutputBindingOptions,
  type PublishOptions,
} from "./output-binding.js";
