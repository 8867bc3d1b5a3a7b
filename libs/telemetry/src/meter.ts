import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type MeterProvider,
  type MetricOptions,
  metrics,
  type Observable,
  type ObservableCallback,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableUpDownCounter,
  type UpDownCounter,
} from "@opentelemetry/api";

/*
 * The OpenTelemetry API hands out no-op meters until a MeterProvider is registered, and an
 * instrument made from a no-op meter stays a no-op. Libraries create their instruments when they
 * are constructed, often before a service calls startTelemetry(), so getMeter() returns a meter
 * whose instruments follow the global provider: synchronous ones look it up on each record,
 * observable ones are re-registered when startTelemetry() (or shutdown) changes it.
 */

const meters = new Map<string, ProxyMeter>();

/**
 * The meter of a library or service component (`getMeter("@espmesh/routing")`). Its instruments
 * record into whatever MeterProvider is registered when they record, so it is safe to create
 * them at import or construction time, before {@link startTelemetry} runs; without a provider
 * they cost a lookup and record nothing.
 */
export function getMeter(name: string, version?: string): Meter {
  const key = `${name}@${version ?? ""}`;
  let meter = meters.get(key);
  if (!meter) {
    meter = new ProxyMeter(name, version);
    meters.set(key, meter);
  }
  return meter;
}

/** Re-registers every observable callback with the current global MeterProvider. */
export function rebindMeters(): void {
  for (const meter of meters.values()) meter.rebind();
}

class ProxyMeter implements Meter {
  private provider: MeterProvider | undefined;
  private meter: Meter | undefined;
  /** The meter the observables and batch callbacks are registered with. */
  private boundMeter: Meter | undefined;
  private readonly observables: ProxyObservable[] = [];
  private readonly batches: { callback: BatchObservableCallback; observables: Observable[] }[] = [];
  private readonly realBatchCallbacks = new Map<BatchObservableCallback, BatchObservableCallback>();

  constructor(
    private readonly name: string,
    private readonly version: string | undefined,
  ) {}

  /** The meter of the current global provider (cached while the provider stays the same). */
  current(): Meter {
    const provider = metrics.getMeterProvider();
    if (provider !== this.provider || this.meter === undefined) {
      this.provider = provider;
      this.meter = provider.getMeter(this.name, this.version);
    }
    return this.meter;
  }

  /** Moves observables and batch callbacks to the current provider's meter, if it changed. */
  rebind(): void {
    const meter = this.current();
    if (meter === this.boundMeter) return;
    const previous = this.boundMeter;
    for (const batch of this.batches) {
      const real = this.realBatchCallbacks.get(batch.callback);
      if (previous && real) previous.removeBatchObservableCallback(real, batch.observables.map(realOf));
    }
    this.boundMeter = meter;
    for (const observable of this.observables) observable.bind(meter);
    this.realBatchCallbacks.clear();
    for (const batch of this.batches) this.addRealBatch(meter, batch.callback, batch.observables);
  }

  /** The meter observables register with; binds on first use. */
  private bound(): Meter {
    this.boundMeter ??= this.current();
    return this.boundMeter;
  }

  createCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Counter<A> {
    const instrument = new SyncInstrument(this, (m) => m.createCounter<A>(name, options));
    return { add: (value, attributes, context) => instrument.get().add(value, attributes, context) };
  }

  createUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    const instrument = new SyncInstrument(this, (m) => m.createUpDownCounter<A>(name, options));
    return { add: (value, attributes, context) => instrument.get().add(value, attributes, context) };
  }

  createHistogram<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Histogram<A> {
    const instrument = new SyncInstrument(this, (m) => m.createHistogram<A>(name, options));
    return { record: (value, attributes, context) => instrument.get().record(value, attributes, context) };
  }

  createGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    const instrument = new SyncInstrument(this, (m) => m.createGauge<A>(name, options));
    return { record: (value, attributes, context) => instrument.get().record(value, attributes, context) };
  }

  createObservableGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this.observable((m) => m.createObservableGauge(name, options));
  }

  createObservableCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableCounter<A> {
    return this.observable((m) => m.createObservableCounter(name, options));
  }

  createObservableUpDownCounter<A extends Attributes = Attributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableUpDownCounter<A> {
    return this.observable((m) => m.createObservableUpDownCounter(name, options));
  }

  addBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    const entry = { callback: callback as BatchObservableCallback, observables: observables as Observable[] };
    this.batches.push(entry);
    this.addRealBatch(this.bound(), entry.callback, entry.observables);
  }

  removeBatchObservableCallback<A extends Attributes = Attributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    const index = this.batches.findIndex((batch) => batch.callback === callback);
    if (index >= 0) this.batches.splice(index, 1);
    const real = this.realBatchCallbacks.get(callback as BatchObservableCallback);
    if (real) {
      this.bound().removeBatchObservableCallback(real, (observables as Observable[]).map(realOf));
      this.realBatchCallbacks.delete(callback as BatchObservableCallback);
    }
  }

  private observable<A extends Attributes>(create: (meter: Meter) => Observable): Observable<A> {
    const observable = new ProxyObservable(create);
    observable.bind(this.bound());
    this.observables.push(observable);
    return observable as unknown as Observable<A>;
  }

  private addRealBatch(meter: Meter, callback: BatchObservableCallback, observables: Observable[]): void {
    const real: BatchObservableCallback = (result) =>
      callback({ observe: (observable, value, attributes) => result.observe(realOf(observable), value, attributes) });
    this.realBatchCallbacks.set(callback, real);
    meter.addBatchObservableCallback(real, observables.map(realOf));
  }
}

/** A synchronous instrument re-created whenever the global provider changes. */
class SyncInstrument<T> {
  private meter: Meter | undefined;
  private instrument: T | undefined;

  constructor(
    private readonly owner: ProxyMeter,
    private readonly create: (meter: Meter) => T,
  ) {}

  get(): T {
    const meter = this.owner.current();
    if (meter !== this.meter || this.instrument === undefined) {
      this.meter = meter;
      this.instrument = this.create(meter);
    }
    return this.instrument;
  }
}

/** An observable instrument whose callbacks move to the new provider's instrument on rebind. */
class ProxyObservable implements Observable {
  private readonly callbacks = new Set<ObservableCallback>();
  real: Observable | undefined;

  constructor(private readonly create: (meter: Meter) => Observable) {}

  bind(meter: Meter): void {
    if (this.real) for (const callback of this.callbacks) this.real.removeCallback(callback);
    this.real = this.create(meter);
    for (const callback of this.callbacks) this.real.addCallback(callback);
  }

  addCallback(callback: ObservableCallback): void {
    this.callbacks.add(callback);
    this.real?.addCallback(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    this.callbacks.delete(callback);
    this.real?.removeCallback(callback);
  }
}

function realOf(observable: Observable): Observable {
  return observable instanceof ProxyObservable && observable.real ? observable.real : observable;
}
