import { MeshError } from "@espmesh/telemetry";

/** The INVALID_ARGUMENT error of a bad option, naming it (`details.option`). */
export function invalidOption(component: string, option: string, reason: string): MeshError {
  return new MeshError("INVALID_ARGUMENT", `${component}: \`${option}\` ${reason}`, { details: { option } });
}

/** A whole number of milliseconds (or a count) at least `min`, or the default when undefined. */
export function integerOption(
  component: string,
  option: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min) {
    throw invalidOption(component, option, `must be an integer >= ${min}, got ${String(resolved)}`);
  }
  return resolved;
}

/**
 * A NATS name token (stream, durable consumer): non-empty, and none of the characters NATS reserves
 * in names (whitespace, `.`, `*`, `>`, path separators).
 */
export function nameOption(component: string, option: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || /[\s.*>/\\]/.test(value)) {
    throw invalidOption(
      component,
      option,
      `must be a non-empty name without whitespace, ".", "*", ">", "/" or "\\", got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A NATS subject: dot-separated non-empty tokens without whitespace; wildcards only where `wildcards`. */
export function subjectOption(component: string, option: string, value: unknown, wildcards: boolean): string {
  const valid =
    typeof value === "string" &&
    value !== "" &&
    !/\s/.test(value) &&
    value.split(".").every((token, i, tokens) => {
      if (token === "") return false;
      if (!wildcards) return !token.includes("*") && !token.includes(">");
      if (token === ">") return i === tokens.length - 1;
      return token === "*" || (!token.includes("*") && !token.includes(">"));
    });
  if (!valid) {
    const what = wildcards ? "a NATS subject" : "a NATS subject without wildcards";
    throw invalidOption(component, option, `must be ${what}, got ${JSON.stringify(value)}`);
  }
  return value as string;
}
