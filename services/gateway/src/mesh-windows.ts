import type { EspClient, Publisher, PublisherOptions } from "@espmesh/client";
import type { Schema } from "@espmesh/events";
import { type Logger, MeshError } from "@espmesh/telemetry";

/** A source window the gateway publishes into: its schema and its one shared publisher. */
export interface SourceWindow {
  readonly schema: Schema;
  readonly publisher: Publisher;
}

/**
 * What the gateway knows about the mesh's windows, cached per (project, window): schemas, and one
 * publisher per source window shared by every request (each publisher is one acknowledged
 * stream). A deployment change forgets the project's entries.
 */
export interface MeshWindows {
  /** The schema of any window; NOT_FOUND for an unknown project or window. */
  schema(project: string, window: string): Promise<Schema>;
  /**
   * The publisher of a source window, opened on first use. NOT_FOUND for an unknown project or
   * window, INVALID_ARGUMENT for a window that exists but is not a source.
   */
  source(project: string, window: string): Promise<SourceWindow>;
  /** Drops a source window's publisher (after it failed), closing it in the background. */
  discard(project: string, window: string, source: SourceWindow): void;
  /** Forgets every schema and publisher of a project (deployed, updated or deleted). */
  forget(project: string): void;
  /** Closes every publisher, flushing what they hold, for at most `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/** Options of {@link createMeshWindows}. */
export interface MeshWindowsOptions {
  readonly client: EspClient;
  readonly publisher: PublisherOptions;
  readonly logger: Logger;
}

const keyOf = (project: string, window: string) => `${project}\u0000${window}`;
const projectOf = (key: string) => key.slice(0, key.indexOf("\u0000"));

/** Creates the {@link MeshWindows} cache of a gateway. */
export function createMeshWindows(options: MeshWindowsOptions): MeshWindows {
  const { client, logger } = options;
  const schemas = new Map<string, Promise<Schema>>();
  const sources = new Map<string, Promise<SourceWindow>>();
  const closing = new Set<Promise<void>>();

  const cached = <T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    let entry = map.get(key);
    if (entry === undefined) {
      entry = load();
      map.set(key, entry);
      // A failed load is not cached; the caller of load() sees the failure itself.
      void entry.catch(() => {
        if (map.get(key) === entry) map.delete(key);
      });
    }
    return entry;
  };

  // Closes (flushing) the publisher of an entry once it has opened; tracked so close() can wait.
  const closeEntry = (key: string, entry: Promise<SourceWindow>) => {
    const done = entry.then(
      (source) =>
        source.publisher.close().catch((error: unknown) => {
          const [project, window] = key.split("\u0000");
          logger.warn({ err: MeshError.from(error), project, window }, "closing a publisher failed");
        }),
      () => undefined, // a source that never opened has nothing to close
    );
    closing.add(done);
    void done.finally(() => closing.delete(done));
  };

  const schema = (project: string, window: string) =>
    cached(schemas, keyOf(project, window), () => client.schema(project, window));

  const openSource = async (project: string, window: string): Promise<SourceWindow> => {
    const status = await client.status(project);
    if (status.sourceWindows.length > 0 && !status.sourceWindows.includes(window)) {
      const list = status.sourceWindows.join(", ");
      await schema(project, window); // NOT_FOUND when there is no such window at all
      throw new MeshError(
        "INVALID_ARGUMENT",
        `window "${window}" of project "${project}" is not a source window; events go into: ${list}`,
        { details: { project, window } },
      );
    }
    const windowSchema = await schema(project, window);
    const publisher = client.publisher(project, window, { ...options.publisher, schema: windowSchema });
    return { schema: windowSchema, publisher };
  };

  const forgetWhere = (matches: (key: string) => boolean) => {
    for (const key of [...schemas.keys()]) if (matches(key)) schemas.delete(key);
    for (const [key, entry] of [...sources.entries()]) {
      if (!matches(key)) continue;
      sources.delete(key);
      closeEntry(key, entry);
    }
  };

  return {
    schema,
    source: (project, window) => cached(sources, keyOf(project, window), () => openSource(project, window)),
    discard(project, window, source) {
      const key = keyOf(project, window);
      const entry = sources.get(key);
      if (entry === undefined) return;
      void entry.then(
        (current) => {
          if (current !== source || sources.get(key) !== entry) return;
          sources.delete(key);
          schemas.delete(key);
          closeEntry(key, entry);
        },
        () => undefined,
      );
    },
    forget(project) {
      forgetWhere((key) => projectOf(key) === project);
    },
    async close(timeoutMs) {
      forgetWhere(() => true);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const outcome = await Promise.race([Promise.all([...closing]).then(() => "closed" as const), timeout]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        logger.warn({ publishers: closing.size, timeoutMs }, "publishers did not close in time; giving up on them");
      }
    },
  };
}
