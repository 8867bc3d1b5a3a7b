import { MeshError } from "@espmesh/telemetry";
import type { WindowKind } from "./window-kind.js";

const byKind = new Map<string, WindowKind>();
const byElement = new Map<string, WindowKind>();

/**
 * Registers a window kind so projects can use it (YAML `kind:` and XML element).
 * @throws MeshError ALREADY_EXISTS when the kind or its element is taken.
 */
export function registerWindowKind(kind: WindowKind): void {
  if (byKind.has(kind.kind) || byElement.has(kind.xmlElement)) {
    throw new MeshError("ALREADY_EXISTS", `window kind "${kind.kind}" (<${kind.xmlElement}>) is already registered`);
  }
  byKind.set(kind.kind, kind);
  byElement.set(kind.xmlElement, kind);
}

/** The kind registered under a YAML kind name. */
export function windowKind(kind: string): WindowKind | undefined {
  return byKind.get(kind);
}

/** The kind registered for an XML element. */
export function windowKindOfElement(element: string): WindowKind | undefined {
  return byElement.get(element);
}

/** Every registered kind name. */
export function windowKinds(): string[] {
  return [...byKind.keys()];
}
