import { type Logger, noopLogger } from "@espmesh/telemetry";
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from "@kubernetes/client-node";
import { Backoff, type BackoffOptions } from "./backoff.js";

/** Options of {@link createResilientInformer}. */
export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** Where the API server is and how to authenticate. */
  kubeConfig: KubeConfig;
  /** The collection path watched, e.g. `/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices`. */
  path: string;
  /** Lists the collection (the same selection as the watch). */
  list: () => Promise<KubernetesListObject<T>>;
  /** Label selector of list and watch. @default none */
  labelSelector?: string;
  /**
   * A watch that delivers no event and no bookmark for this long is presumed dead and the
   * informer is restarted. @default 120000
   */
  silenceMs?: number;
  /** Delays between restarts after errors. @default { initialMs: 200, maxMs: 30000 } */
  backoff?: BackoffOptions;
  /** Called with every object after each (re)list and after each batch of watch events. */
  onChange: (objects: readonly T[]) => void;
  /** @default no-op */
  logger?: Logger;
  /** Name used in log messages. @default path */
  name?: string;
}

/** A list/watch informer that keeps itself alive. */
export interface ResilientInformer {
  /** Starts listing and watching. */
  start(): void;
  /** Stops for good. */
  stop(): Promise<void>;
  /** How many times the informer was restarted (after errors or silence). */
  readonly restarts: number;
}

interface Hooks {
  /** True once this watch's informer was retired: it must open no connection any more. */
  retired(): boolean;
  onWatchStart(): void;
  onActivity(): void;
}

/** A Watch that asks for bookmarks and reports each start and each line it receives. */
class ObservedWatch extends Watch {
  readonly #hooks: Hooks;

  constructor(kubeConfig: KubeConfig, hooks: Hooks) {
    super(kubeConfig);
    this.#hooks = hooks;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.#hooks.retired()) {
      // A retired informer finishing a slow list would otherwise open a watch nobody stops.
      const controller = new AbortController();
      controller.abort();
      return Promise.resolve(controller);
    }
    this.#hooks.onWatchStart();
    const observed = (phase: string, apiObj: unknown, watchObj?: unknown) => {
      this.#hooks.onActivity();
      callback(phase, apiObj, watchObj);
    };
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, observed, done);
  }
}

interface Generation<T extends KubernetesObject> {
  readonly id: number;
  readonly informer: ListWatch<T>;
  retired: boolean;
  synced: boolean;
  notifyQueued: boolean;
}

/**
 * The `@kubernetes/client-node` informer (`ListWatch`, what `makeInformer` builds) made
 * resilient: it relists on 410 Gone (the library does that), is rebuilt with exponential
 * backoff after any other error, and is rebuilt by a watchdog when the watch has been silent
 * (no event, no bookmark) for `silenceMs`. Each rebuild is a fresh informer; callbacks of a
 * retired one are ignored, so an abort during shutdown is never mistaken for a failure.
 */
export function createResilientInformer<T extends KubernetesObject>(
  options: ResilientInformerOptions<T>,
): ResilientInformer {
  const logger = options.logger ?? noopLogger;
  const silenceMs = options.silenceMs ?? 120_000;
  const name = options.name ?? options.path;
  const backoff = new Backoff(options.backoff);
  let current: Generation<T> | undefined;
  let generations = 0;
  let restarts = 0;
  let stopped = false;
  let lastActivity = Date.now();
  let restartTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const notify = (generation: Generation<T>) => {
    if (generation.retired || !generation.synced || generation.notifyQueued) return;
    generation.notifyQueued = true;
    queueMicrotask(() => {
      generation.notifyQueued = false;
      if (generation.retired || !generation.synced) return;
      options.onChange(generation.informer.list());
    });
  };

  const retire = (generation: Generation<T> | undefined) => {
    if (generation === undefined || generation.retired) return;
    generation.retired = true;
    generation.informer.stop().catch((error: unknown) => {
      logger.debug({ informer: name, err: error }, "stopping a retired informer failed");
    });
  };

  const restart = (reason: string, delayMs: number) => {
    if (stopped) return;
    retire(current);
    current = undefined;
    restarts += 1;
    logger.warn({ informer: name, reason, delayMs }, "restarting informer");
    clearTimeout(restartTimer);
    restartTimer = setTimeout(startGeneration, delayMs);
  };

  function startGeneration(): void {
    if (stopped) return;
    generations += 1;
    const id = generations;
    const hooks: Hooks = {
      retired: () => current?.id !== id,
      onWatchStart: () => {
        const generation = current;
        if (generation?.id !== id) return;
        lastActivity = Date.now();
        generation.synced = true;
        notify(generation);
      },
      onActivity: () => {
        if (current?.id !== id) return;
        lastActivity = Date.now();
        backoff.reset();
      },
    };
    const watch = new ObservedWatch(options.kubeConfig, hooks);
    const informer = new ListWatch<T>(options.path, watch, options.list, false, options.labelSelector);
    const generation: Generation<T> = { id, informer, retired: false, synced: false, notifyQueued: false };
    current = generation;
    lastActivity = Date.now();
    const onObject = () => notify(generation);
    informer.on("add", onObject);
    informer.on("update", onObject);
    informer.on("delete", onObject);
    informer.on("connect", () => {
      generation.synced = false;
    });
    informer.on("error", (error?: unknown) => {
      if (generation.retired) return;
      restart(`error: ${describe(error)}`, backoff.next());
    });
    informer.start().catch((error: unknown) => {
      if (generation.retired) return;
      restart(`start failed: ${describe(error)}`, backoff.next());
    });
  }

  return {
    start() {
      if (watchdog !== undefined || stopped) return;
      const every = Math.max(20, Math.min(1000, Math.floor(silenceMs / 4)));
      watchdog = setInterval(() => {
        if (current !== undefined && Date.now() - lastActivity > silenceMs) {
          restart(`watch silent for more than ${silenceMs} ms`, 0);
        }
      }, every);
      startGeneration();
    },
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      clearTimeout(restartTimer);
      const generation = current;
      current = undefined;
      retire(generation);
    },
    get restarts() {
      return restarts;
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: unknown; code?: unknown }).statusCode ?? (error as { code?: unknown }).code;
    return status === undefined ? error.message : `${error.message} (${String(status)})`;
  }
  return String(error);
}
