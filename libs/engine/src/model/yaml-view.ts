import type { MeshError } from "@espmesh/telemetry";
import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from "yaml";
import { loadError } from "../errors.js";
import type { ExprText } from "./project-model.js";

/**
 * Reads one node of a YAML (or JSON) project with its path (`windows[2].join.type`) and line, and
 * rejects unknown keys in {@link finish}.
 */
export class YamlView {
  private readonly used = new Set<string>();

  constructor(
    readonly node: Node | null,
    readonly path: string,
    private readonly lines: LineCounter,
    readonly window?: string,
  ) {}

  private where(node: Node | null = this.node): { line?: number; column?: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  /** A load error at this node (or at `node`), naming its path. */
  error(message: string, node: Node | null = this.node, path = this.path): MeshError {
    return loadError(message, { ...this.where(node), path, window: this.window });
  }

  /** The same node, naming `window` in its errors. */
  withWindow(window: string): YamlView {
    return new YamlView(this.node, this.path, this.lines, window);
  }

  /** The line of this node, when known. */
  get line(): number | undefined {
    return this.where().line;
  }

  private get map(): YAMLMap {
    if (!isMap(this.node)) throw this.error("expected a mapping");
    return this.node;
  }

  /** The keys of this mapping, in order. */
  keys(): string[] {
    return this.map.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key));
  }

  private pair(key: string): Pair | undefined {
    this.used.add(key);
    return this.map.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === key) as
      | Pair
      | undefined;
  }

  /** Whether the mapping has a key. */
  has(key: string): boolean {
    return this.map.items.some((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === key);
  }

  /** The view of a key's value, or undefined when absent. */
  get(key: string): YamlView | undefined {
    const pair = this.pair(key);
    if (pair === undefined) return undefined;
    return new YamlView(
      (pair.value as Node | null) ?? null,
      this.path === "" ? key : `${this.path}.${key}`,
      this.lines,
      this.window,
    );
  }

  /** The view of a required key's value. */
  require(key: string): YamlView {
    const view = this.get(key);
    if (view === undefined) {
      const unread = this.keys().filter((name) => !this.used.has(name));
      const hint = unread.length > 0 ? ` (unknown here: ${unread.map((name) => `"${name}"`).join(", ")})` : "";
      throw this.error(`missing "${key}"${hint}`);
    }
    return view;
  }

  /** This node as a scalar value. */
  scalar(): unknown {
    if (this.node === null) return null;
    if (!isScalar(this.node)) throw this.error("expected a single value");
    return this.node.value;
  }

  /** This node as a string (numbers and booleans are written back as text). */
  string(): string {
    const value = this.scalar();
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw this.error("expected a string");
  }

  /** This node as a boolean. */
  boolean(): boolean {
    const value = this.scalar();
    if (typeof value !== "boolean") throw this.error("expected true or false");
    return value;
  }

  /** This node as an expression with its position. */
  expr(): ExprText {
    const text = this.string();
    if (text.trim() === "") throw this.error("expected an expression");
    const where = this.where();
    const quoted = isScalar(this.node) && (this.node.type === "QUOTE_DOUBLE" || this.node.type === "QUOTE_SINGLE");
    const block = isScalar(this.node) && (this.node.type === "BLOCK_LITERAL" || this.node.type === "BLOCK_FOLDED");
    return {
      text,
      line: (where.line ?? 1) + (block ? 1 : 0),
      column: block ? 1 : (where.column ?? 1) + (quoted ? 1 : 0),
    };
  }

  /** Optional string of a key. */
  optString(key: string): string | undefined {
    return this.get(key)?.string();
  }

  /** Optional boolean of a key. */
  optBoolean(key: string, fallback: boolean): boolean {
    return this.get(key)?.boolean() ?? fallback;
  }

  /** The items of this sequence. */
  items(): YamlView[] {
    if (!isSeq(this.node)) throw this.error("expected a list");
    return this.node.items.map(
      (item, index) => new YamlView((item as Node | null) ?? null, `${this.path}[${index}]`, this.lines, this.window),
    );
  }

  /** Whether this node is a sequence. */
  get isList(): boolean {
    return isSeq(this.node);
  }

  /** Whether this node is a mapping. */
  get isMap(): boolean {
    return isMap(this.node);
  }

  /** Marks keys as read. */
  accept(...keys: string[]): void {
    for (const key of keys) this.used.add(key);
  }

  /** Rejects keys that were not read. */
  finish(): void {
    for (const item of this.map.items) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      if (!this.used.has(key)) {
        const path = this.path === "" ? key : `${this.path}.${key}`;
        throw this.error(`unknown key "${key}"`, (item.key as Node | null) ?? this.node, path);
      }
    }
  }
}
