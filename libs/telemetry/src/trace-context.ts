import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";

/**
 * The propagator espmesh uses everywhere: W3C trace context (`traceparent`, `tracestate`) and W3C
 * baggage. {@link startTelemetry} also registers it as the global propagator.
 */
export const meshPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/**
 * The trace context of `ctx` (the active context by default) as string headers, e.g.
 * `{ traceparent: "00-…-…-01" }`, ready for `Batch.traceContext` or gRPC/HTTP headers. Empty when
 * `ctx` carries no valid span context.
 */
export function injectTraceContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  meshPropagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/**
 * The context described by `carrier` (as written by {@link injectTraceContext}), layered on `base`
 * (the active context by default). Start spans with it as parent:
 * `tracer.startSpan("apply", {}, extractTraceContext(batch.traceContext))`. A carrier without a
 * valid `traceparent` yields `base` unchanged.
 */
export function extractTraceContext(
  carrier: Readonly<Record<string, string | undefined>>,
  base: Context = context.active(),
): Context {
  return meshPropagator.extract(base, carrier, defaultTextMapGetter);
}

/** The trace id carried by `ctx` (the active context by default), for log lines; undefined if none. */
export function traceIdOf(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * The tracer of a library or service component. Spans are real once {@link startTelemetry} has
 * registered a tracer provider, and no-ops before (the API's proxy provider switches over).
 */
export function getTracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}
