/** An integer option value, or an error naming the option. */
export function integerOption(flag: string, text: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (typeof text !== "string" || text.trim() === "" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`--${flag} must be an integer from ${min} to ${max}, got "${String(text)}"`);
  }
  return value;
}
