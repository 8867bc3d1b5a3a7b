import { XMLParser, XMLValidator } from "fast-xml-parser";
import { loadError } from "../errors.js";
import type { ExprText } from "./project-model.js";

/**
 * An XML element with the position of its start tag. fast-xml-parser gives character offsets of
 * elements (`captureMetaData`); we turn them into lines and columns ourselves.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly line: number;
  readonly column: number;
  /** The text content with CDATA markers and entities resolved (empty when none). */
  readonly text: string;
  /** The text content positioned in the file: usable as an expression origin. */
  readonly expr: ExprText;
}

interface RawNode {
  [name: string]: unknown;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Offsets of line starts, for offset -> line:column. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** The end (exclusive) of the start tag beginning at `start`, skipping quoted attribute values. */
function startTagEnd(source: string, start: number): number {
  let quote = "";
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return i + 1;
    }
  }
  return source.length;
}

/**
 * The inner text of an element as it stands in the file, with CDATA markers blanked out (so the
 * text keeps its lines and columns) and entities outside CDATA decoded (a column after an entity
 * on the same line shifts by the entity's extra length).
 */
function positionedText(raw: string): string {
  const parts = raw.split(/(<!\[CDATA\[[\s\S]*?\]\]>)/);
  return parts
    .map((part) => {
      if (part.startsWith("<![CDATA[")) return `         ${part.slice(9, -3)}   `;
      return part.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_m, name: string) => {
        if (!name.startsWith("#")) return ENTITIES[name]!;
        return String.fromCodePoint(name.startsWith("#x") ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)));
      });
    })
    .join("");
}

/**
 * Parses an XML document into elements with positions.
 * @throws MeshError INVALID_ARGUMENT with the line and column of malformed XML.
 */
export function parseXmlTree(source: string): XmlElement {
  const valid = XMLValidator.validate(source);
  if (valid !== true) {
    throw loadError(`malformed XML: ${valid.err.msg}`, { line: valid.err.line, column: valid.err.col });
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    captureMetaData: true,
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: "#comment",
  });
  const nodes = parser.parse(source) as RawNode[];
  const meta = XMLParser.getMetaDataSymbol() as unknown as string;
  const starts = lineStarts(source);
  const convert = (node: RawNode): XmlElement | undefined => {
    const name = Object.keys(node).find((key) => key !== ":@");
    if (name === undefined || name === "#text" || name === "#comment") return undefined;
    const info = node[meta] as { startIndex?: number; endIndex?: number } | undefined;
    const startIndex = info?.startIndex ?? 0;
    const endIndex = info?.endIndex ?? startIndex;
    const where = position(starts, startIndex);
    const attributes = (node[":@"] as Record<string, string> | undefined) ?? {};
    const children = ((node[name] as RawNode[] | undefined) ?? [])
      .map(convert)
      .filter((child): child is XmlElement => child !== undefined);
    const innerStart = startTagEnd(source, startIndex);
    const selfClosing = source[innerStart - 2] === "/";
    const innerEnd = selfClosing ? innerStart : Math.max(innerStart, source.lastIndexOf("</", endIndex - 1));
    const raw = selfClosing ? "" : source.slice(innerStart, innerEnd);
    const textOrigin = position(starts, innerStart);
    const exprSource = children.length === 0 ? positionedText(raw) : "";
    const text = exprSource.trim();
    return {
      name,
      attributes,
      children,
      line: where.line,
      column: where.column,
      text,
      expr: { text: exprSource, line: textOrigin.line, column: textOrigin.column },
    };
  };
  const roots = nodes.map(convert).filter((node): node is XmlElement => node !== undefined);
  if (roots.length !== 1) throw loadError(`expected one root element, found ${roots.length}`);
  return roots[0]!;
}
