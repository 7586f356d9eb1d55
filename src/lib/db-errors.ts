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

/**
 * D1 refusals that the request's own input caused: answered as the client's error (never a 503 with Retry-After,
 * which would invite the same request again). Matched on SQLite's messages, which D1 passes through.
 */
const CLIENT_CAUSED: {
  pattern: RegExp;
  code: "bad_request" | "payload_too_large" | "validation_failed";
  detail: string;
}[] = [
  {
    pattern: /LIKE or GLOB pattern too complex|REGEXP pattern too (complex|big)/i,
    code: "bad_request",
    detail: "The search term is too complex for the database; use a shorter or simpler one.",
  },
  {
    pattern: /string or blob too big|SQLITE_TOOBIG|statement too long|too many (terms|columns)/i,
    code: "payload_too_large",
    detail: "A value in the request is too large for the database.",
  },
  {
    pattern: /too many SQL variables|too many arguments/i,
    code: "validation_failed",
    detail: "The request names too many values to handle at once; send fewer.",
  },
];

export type ClientDatabaseError = { code: "bad_request" | "payload_too_large" | "validation_failed"; detail: string };

/**
 * The client's share of a database error: a problem code and detail when the input caused it (a pattern too
 * complex, a value too big, too many values), or null when the database itself failed (overloaded, unreachable,
 * reset), which stays a 503.
 */
export function clientCausedDatabaseError(error: unknown): ClientDatabaseError | null {
  if (!isDatabaseError(error)) return null;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    // drizzle's wrapper quotes the SQL and its parameters (the client's text) in its message: only D1's own counts.
    const message = current instanceof DrizzleQueryError ? "" : current.message;
    const match = CLIENT_CAUSED.find((entry) => entry.pattern.test(message));
    if (match) return { code: match.code, detail: match.detail };
    current = current.cause;
  }
  return null;
}
