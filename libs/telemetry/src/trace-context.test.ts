import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { startTelemetry, type Telemetry } from "./telemetry.js";
import { extractTraceContext, getTracer, injectTraceContext, traceIdOf } from "./trace-context.js";

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

describe("trace context helpers", () => {
  it("carries a W3C traceparent and tracestate through extract and inject", () => {
    const ctx = extractTraceContext({ traceparent, tracestate: "espmesh=1" }, ROOT_CONTEXT);
    expect(traceIdOf(ctx)).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(injectTraceContext(ctx)).toEqual({ traceparent, tracestate: "espmesh=1" });
  });

  it("injects nothing without a span and ignores a malformed traceparent", () => {
    expect(injectTraceContext(ROOT_CONTEXT)).toEqual({});
    const ctx = extractTraceContext({ traceparent: "garbage" }, ROOT_CONTEXT);
    expect(traceIdOf(ctx)).toBeUndefined();
    expect(injectTraceContext(ctx)).toEqual({});
  });

  it("continues an incoming trace in a child span once telemetry runs", async () => {
    telemetry = await startTelemetry({ serviceName: "trace-test" });
    const parent = extractTraceContext({ traceparent });
    const span = getTracer("@espmesh/test").startSpan("apply", {}, parent);
    const carrier = context.with(trace.setSpan(parent, span), () => injectTraceContext());
    span.end();
    const [version, traceId, spanId, flags] = (carrier.traceparent ?? "").split("-");
    expect(version).toBe("00");
    expect(traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(spanId).not.toBe("b7ad6b7169203331");
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(flags).toBe("01");
  });
});
