import { DrizzleQueryError } from "drizzle-orm";

/**
 * D1 reports failures as plain Errors whose message starts with a code (`D1_ERROR: …`, `D1_EXEC_ERROR`,
 * `D1_TYPE_ERROR`) or names the storage (`D1 DB is overloaded`, `Network connection lost.`); drizzle wraps them
 * in a DrizzleQueryError whose `cause` is the original.
 */
const D1_MESSAGE = /^(D1_[A-Z_]+\b|D1 DB\b|Network connection lost)|SQLITE_[A-Z]+/;

/** Whether an error (or anything in its cause chain) came from the database rather than from our own code. */
export function isDatabaseError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof DrizzleQueryError || D1_MESSAGE.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
