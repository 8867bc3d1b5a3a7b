import type { MeshError } from "@espmesh/telemetry";
import { loadError } from "../errors.js";
import type { ExprText } from "./project-model.js";
import type { XmlElement } from "./xml-tree.js";

/**
 * Reads one XML element of a project, remembering which attributes and children were used so that
 * {@link finish} can reject anything unsupported with its name and line.
 */
export class XmlView {
  private readonly usedAttributes = new Set<string>();
  private readonly usedChildren = new Set<XmlElement>();

  constructor(
    readonly element: XmlElement,
    readonly window?: string,
  ) {}

  get name(): string {
    return this.element.name;
  }

  get line(): number {
    return this.element.line;
  }

  /** A load error at this element. */
  error(message: string, at: XmlElement = this.element): MeshError {
    return loadError(message, { line: at.line, column: at.column, window: this.window });
  }

  /** An attribute's value, or undefined. */
  attr(name: string): string | undefined {
    this.usedAttributes.add(name);
    return this.element.attributes[name];
  }

  /** A required attribute's value. */
  requireAttr(name: string): string {
    const value = this.attr(name);
    if (value === undefined || value.trim() === "") {
      throw this.error(`<${this.name}> needs the attribute ${name}`);
    }
    return value;
  }

  /** A boolean attribute (`true`/`false`, `1`/`0`, `yes`/`no`). */
  boolAttr(name: string, fallback: boolean): boolean {
    const value = this.attr(name);
    if (value === undefined) return fallback;
    const lower = value.trim().toLowerCase();
    if (lower === "true" || lower === "1" || lower === "yes") return true;
    if (lower === "false" || lower === "0" || lower === "no") return false;
    throw this.error(`attribute ${name} of <${this.name}> must be true or false, not "${value}"`);
  }

  /** Marks attributes as accepted without meaning here (pubsub and friends). */
  ignoreAttributes(...names: string[]): void {
    for (const name of names) this.usedAttributes.add(name);
  }

  /** Every child with a tag name. */
  children(name: string): XmlView[] {
    const found = this.element.children.filter((child) => child.name === name);
    for (const child of found) this.usedChildren.add(child);
    return found.map((child) => new XmlView(child, this.window));
  }

  /** The one child with a tag name, or undefined. */
  child(name: string): XmlView | undefined {
    const found = this.children(name);
    if (found.length > 1) throw this.error(`<${name}> may appear only once in <${this.name}>`, found[1]!.element);
    return found[0];
  }

  /** The one child with a tag name. */
  requireChild(name: string): XmlView {
    const found = this.child(name);
    if (found === undefined) throw this.error(`<${this.name}> needs a <${name}> element`);
    return found;
  }

  /** Marks children as accepted without meaning here (description, metadata). */
  ignoreChildren(...names: string[]): void {
    for (const child of this.element.children) if (names.includes(child.name)) this.usedChildren.add(child);
  }

  /** The element's text, trimmed. */
  get text(): string {
    return this.element.text;
  }

  /** The element's text as an expression with its position in the file. */
  get expr(): ExprText {
    if (this.element.text === "") throw this.error(`<${this.name}> is empty: expected an expression`);
    return this.element.expr;
  }

  /**
   * Rejects every attribute and child element that was not read: an unsupported feature is a load
   * error naming the element and its line, never silently ignored.
   */
  finish(): void {
    for (const child of this.element.children) {
      if (!this.usedChildren.has(child)) {
        throw this.error(`unsupported element <${child.name}> in <${this.name}>`, child);
      }
    }
    for (const name of Object.keys(this.element.attributes)) {
      if (!this.usedAttributes.has(name)) {
        throw this.error(`unsupported attribute ${name} on <${this.name}>`);
      }
    }
  }
}
