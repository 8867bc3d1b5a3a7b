/**
 * The object store behind the FAKE Kubernetes API server used in tests: objects by collection
 * and name, one global resourceVersion counter, an event history for watches, and label
 * selectors. It imitates what the real API server does with etcd, in memory.
 */

/** A stored Kubernetes object (only the parts the fake looks at are typed). */
export interface FakeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** One change, as a watch delivers it. */
export interface FakeEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  collection: string;
  resourceVersion: number;
  object: FakeObject;
}

/** Does `labels` match an equality-based selector (`a=b,c!=d,e`)? */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (selector === null || selector.trim() === "") return true;
  const have = labels ?? {};
  for (const raw of selector.split(",")) {
    const term = raw.trim();
    if (term === "") continue;
    const notEqual = term.indexOf("!=");
    if (notEqual >= 0) {
      if (have[term.slice(0, notEqual).trim()] === term.slice(notEqual + 2).trim()) return false;
      continue;
    }
    const equal = term.indexOf("=");
    if (equal >= 0) {
      const value = term
        .slice(equal + 1)
        .replace(/^=/, "")
        .trim();
      if (have[term.slice(0, equal).trim()] !== value) return false;
      continue;
    }
    if (term.startsWith("!")) {
      if (term.slice(1) in have) return false;
    } else if (!(term in have)) return false;
  }
  return true;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** In-memory objects with resourceVersions and a watchable history. */
export class FakeKubeStore {
  readonly #collections = new Map<string, Map<string, FakeObject>>();
  readonly #history: FakeEvent[] = [];
  readonly #listeners = new Set<(event: FakeEvent) => void>();
  #resourceVersion = 100;
  #compactedBelow = 0;
  #uid = 0;

  /** The newest resourceVersion. */
  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  /** resourceVersions below this are too old to watch from (410 Gone). */
  get compactedBelow(): number {
    return this.#compactedBelow;
  }

  /** Forgets the history, like an etcd compaction: watching from an older version gets 410. */
  compact(): void {
    this.#history.length = 0;
    this.#compactedBelow = this.#resourceVersion;
  }

  /** Objects of a collection matching `selector`, copied. */
  list(collection: string, selector: string | null = null): FakeObject[] {
    const objects = [...(this.#collections.get(collection)?.values() ?? [])];
    return objects.filter((object) => matchesSelector(object.metadata.labels, selector)).map(clone);
  }

  /** One object, copied, or undefined. */
  get(collection: string, name: string): FakeObject | undefined {
    const object = this.#collections.get(collection)?.get(name);
    return object === undefined ? undefined : clone(object);
  }

  /** Creates or replaces an object, bumping its resourceVersion; returns the stored copy. */
  put(collection: string, object: FakeObject): FakeObject {
    let objects = this.#collections.get(collection);
    if (objects === undefined) {
      objects = new Map();
      this.#collections.set(collection, objects);
    }
    const previous = objects.get(object.metadata.name);
    this.#resourceVersion += 1;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(this.#resourceVersion);
    stored.metadata.uid = previous?.metadata.uid ?? `uid-${++this.#uid}`;
    const specChanged = previous === undefined || JSON.stringify(previous.spec) !== JSON.stringify(stored.spec);
    stored.metadata.generation = (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    objects.set(stored.metadata.name, stored);
    this.#emit({
      type: previous === undefined ? "ADDED" : "MODIFIED",
      collection,
      resourceVersion: this.#resourceVersion,
      object: clone(stored),
    });
    return clone(stored);
  }

  /** Deletes an object; returns its last state, or undefined when there was none. */
  remove(collection: string, name: string): FakeObject | undefined {
    const objects = this.#collections.get(collection);
    const previous = objects?.get(name);
    if (objects === undefined || previous === undefined) return undefined;
    objects.delete(name);
    this.#resourceVersion += 1;
    const last = clone(previous);
    last.metadata.resourceVersion = String(this.#resourceVersion);
    this.#emit({ type: "DELETED", collection, resourceVersion: this.#resourceVersion, object: clone(last) });
    return last;
  }

  /** Events of `collection` after `resourceVersion`, oldest first. */
  since(collection: string, resourceVersion: number): FakeEvent[] {
    return this.#history.filter((event) => event.collection === collection && event.resourceVersion > resourceVersion);
  }

  /** Calls `listener` with every later event; returns the unsubscribe function. */
  subscribe(listener: (event: FakeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: FakeEvent): void {
    this.#history.push(event);
    for (const listener of [...this.#listeners]) listener(event);
  }
}
