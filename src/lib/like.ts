/**
 * A LIKE pattern matching `term` anywhere, with `%`, `_` and `\` in the term taken literally; use it with
 * `ESCAPE '\\'`. SQLite's LIKE is case-insensitive for ASCII.
 */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}
