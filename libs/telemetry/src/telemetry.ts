import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { AsyncLocalContextManager } from "./context-manager.js";
import { MeshError } from "./errors.js";
import { type Logger, noopLogger } from "./logger.js";
import { rebindMeters } from "./meter.js";
import { createPrometheusHandler, type MetricsServer, type PrometheusHandler, serveMetrics } from "./prometheus.js";
import { meshPropagator } from "./trace-context.js";

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` of the resource, e.g. `"espmesh-balancer"`. */
  serviceName: string;
  /** `service.version` of the resource. */
  serviceVersion?: string;
  /** `service.instance.id` of the resource, e.g. the pod name. */
  serviceInstanceId?: string;
  /**
   * Port of a `/metrics` HTTP endpoint for Prometheus; 0 serves none (the metrics are still
   * available through {@link Telemetry.metricsText} and {@link Telemetry.metricsHandler}).
   * @default 0
   */
  prometheusPort?: number;
  /**
   * Address the `/metrics` endpoint listens on.
   * @default "0.0.0.0"
   */
  prometheusHost?: string;
  /** Span processors (with their exporters) that receive finished spans. @default none */
  spanProcessors?: SpanProcessor[];
  /** @default noopLogger */
  logger?: Logger;
}

/** {@link TelemetryOptions} with every default applied. */
export interface CompiledTelemetryOptions {
  serviceName: string;
  serviceVersion: string | undefined;
  serviceInstanceId: string | undefined;
  prometheusPort: number;
  prometheusHost: string;
  spanProcessors: SpanProcessor[];
  logger: Logger;
}

/** Applies the defaults of {@link TelemetryOptions}; rejects an empty name or a bad port. */
export function compileTelemetryOptions(options: TelemetryOptions): CompiledTelemetryOptions {
  if (typeof options.serviceName !== "string" || options.serviceName.trim() === "") {
    throw new MeshError("INVALID_ARGUMENT", "telemetry option `serviceName` must be a non-empty string", {
      details: { field: "serviceName" },
    });
  }
  const prometheusPort = options.prometheusPort ?? 0;
  if (!Number.isInteger(prometheusPort) || prometheusPort < 0 || prometheusPort > 65_535) {
    throw new MeshError("INVALID_ARGUMENT", `telemetry option \`prometheusPort\` is ${prometheusPort}; use 0-65535`, {
      details: { field: "prometheusPort" },
    });
  }
  return {
    serviceName: options.serviceName,
    serviceVersion: options.serviceVersion,
    serviceInstanceId: options.serviceInstanceId,
    prometheusPort,
    prometheusHost: options.prometheusHost ?? "0.0.0.0",
    spanProcessors: options.spanProcessors ?? [],
    logger: options.logger ?? noopLogger,
  };
}

/** A started telemetry SDK, as returned by {@link startTelemetry}. */
export interface Telemetry {
  readonly serviceName: string;
  /** `http://host:port/metrics` when `prometheusPort` was set, else undefined. */
  readonly metricsUrl: string | undefined;
  /** The Prometheus text exposition of every metric recorded in this process. */
  metricsText(): Promise<string>;
  /** A node:http handler answering with {@link metricsText}, to mount on an existing server. */
  readonly metricsHandler: PrometheusHandler;
  /** Stops the `/metrics` endpoint; the last handle to shut down also stops the SDK. Idempotent. */
  shutdown(): Promise<void>;
}

interface SharedSdk {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  reader: PrometheusExporter;
  serializer: PrometheusSerializer;
  contextManager: AsyncLocalContextManager;
  users: number;
}

let shared: SharedSdk | undefined;

/**
 * The Prometheus text of every metric recorded in this process, or an empty exposition when no
 * {@link startTelemetry} is running. For serving `/metrics` on an existing HTTP server.
 */
export async function metricsText(): Promise<string> {
  const sdk = shared;
  if (!sdk) return "";
  const { resourceMetrics, errors } = await sdk.reader.collect();
  if (errors.length > 0) {
    throw new MeshError("INTERNAL", `collecting metrics failed: ${errors.map(String).join("; ")}`, {
      cause: errors[0],
    });
  }
  return sdk.serializer.serialize(resourceMetrics);
}

function startSdk(options: CompiledTelemetryOptions): SharedSdk {
  const resource = resourceFromAttributes({
    "service.name": options.serviceName,
    ...(options.serviceVersion === undefined ? {} : { "service.version": options.serviceVersion }),
    ...(options.serviceInstanceId === undefined ? {} : { "service.instance.id": options.serviceInstanceId }),
  });
  const reader = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    throw new MeshError("FAILED_PRECONDITION", "another OpenTelemetry MeterProvider is already registered");
  }
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: options.spanProcessors });
  const contextManager = new AsyncLocalContextManager();
  if (!trace.setGlobalTracerProvider(tracerProvider)) {
    options.logger.warn("another OpenTelemetry TracerProvider is registered; keeping it");
  }
  if (!context.setGlobalContextManager(contextManager)) {
    options.logger.warn("another OpenTelemetry context manager is registered; keeping it");
  }
  if (!propagation.setGlobalPropagator(meshPropagator)) {
    options.logger.warn("another OpenTelemetry propagator is registered; keeping it");
  }
  rebindMeters();
  return { meterProvider, tracerProvider, reader, serializer: new PrometheusSerializer(), contextManager, users: 0 };
}

async function stopSdk(sdk: SharedSdk): Promise<void> {
  shared = undefined;
  metrics.disable();
  trace.disable();
  context.disable();
  propagation.disable();
  rebindMeters();
  await Promise.all([sdk.meterProvider.shutdown(), sdk.tracerProvider.shutdown()]);
}

/**
 * Starts the OpenTelemetry SDK of a service: a MeterProvider read by a Prometheus exporter, a
 * tracer provider (spans go to `spanProcessors`), an AsyncLocalStorage context manager and the
 * W3C propagator, all registered globally, plus a `/metrics` endpoint when `prometheusPort` > 0.
 * Instruments from {@link getMeter} made earlier start recording now.
 *
 * Several services in one process (the embedded mode) share one SDK: the first call's resource
 * wins, each call may open its own endpoint, and the SDK stops when the last handle shuts down.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const compiled = compileTelemetryOptions(options);
  shared ??= startSdk(compiled);
  const sdk = shared;
  sdk.users += 1;
  let server: MetricsServer | undefined;
  let stopped = false;
  const shutdown = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server?.close();
    sdk.users -= 1;
    if (sdk.users === 0 && shared === sdk) await stopSdk(sdk);
  };
  const metricsHandler = createPrometheusHandler(metricsText, compiled.logger);
  if (compiled.prometheusPort > 0) {
    try {
      server = await serveMetrics(metricsHandler, compiled.prometheusHost, compiled.prometheusPort);
    } catch (error) {
      await shutdown();
      throw error;
    }
  }
  compiled.logger.debug({ serviceName: compiled.serviceName, metricsUrl: server?.url }, "telemetry started");
  return {
    serviceName: compiled.serviceName,
    metricsUrl: server?.url,
    metricsText,
    metricsHandler,
    shutdown,
  };
}
