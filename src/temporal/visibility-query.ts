/** Quotes a value as a Temporal visibility string literal, escaping backslashes and single quotes. */
export function visibilityString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
