import { z } from "@hono/zod-openapi";
import type { SQL } from "drizzle-orm";
import type { Context } from "hono";
import { clientKey } from "../auth/client";
import { takeAttempt } from "../auth/rate-limit";
import type { Db } from "../db/client";
import type { AppEnv, AuthUser } from "../env";
import { type Cell, CSV_CONTENT_TYPE, csvDisposition, csvStream } from "./csv";
import { ApiError } from "./errors";
import { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS, EXPORT_WINDOW_SECONDS } from "./export-limits";
import { errorFields, log } from "./log";
import { afterKeys, type SortKey } from "./ordering";

/**
 * CSV exports of a filtered list (`GET /tasks/export`, `GET /products/export`): the list's own query, authorization
 * and filters, every matching row instead of one page, streamed page by page from D1.
 */

export { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS, EXPORT_WINDOW_SECONDS };

export const EXPORT_RULES =
  `Every row the filters match, in the list's order, as RFC 4180 CSV with a header row (UTF-8, CRLF). At most ` +
  `${EXPORT_MAX_ROWS.toLocaleString("en")} rows: a filter that matches more is a 400 that says how many it matched ` +
  `(narrow it). \`limit\` and \`offset\` are not part of an export. Text a spreadsheet would run as a formula (a ` +
  "cell starting with `=`, `+`, `-`, `@`, tab or CR) starts with `'` instead. Each caller may start " +
  `${EXPORT_MAX_PER_WINDOW} exports per ${EXPORT_WINDOW_SECONDS / 60} minutes (429 with Retry-After). ` +
  "`X-Total-Count` says how many rows follow. The rows are read page by page while the body streams; an error " +
  "after the first byte ends the body early.";

/** The 200 of an export in the OpenAPI document. */
export function csvResponse(description: string) {
  return {
    description,
    headers: {
      "Content-Disposition": {
        description: '`attachment; filename="<list>-YYYY-MM-DD.csv"`',
        required: true,
        schema: { type: "string" as const },
      },
      "X-Total-Count": {
        description: "The rows that matched when the export started (the body holds one record for each).",
        required: true,
        schema: { type: "string" as const, pattern: "^\\d+$" },
      },
    },
    content: { "text/csv": { schema: z.string().openapi({ description: "RFC 4180 CSV with a header row" }) } },
  };
}

/** Pages of `pageSize` rows after the last one read, until `max` rows or the end of the list. */
export async function* keysetPages<Row>(
  keys: readonly SortKey<Row>[],
  page: (after: SQL | undefined, limit: number) => Promise<Row[]>,
  pageSize: number,
  max: number,
): AsyncGenerator<Row[]> {
  let last: Row | undefined;
  let read = 0;
  while (read < max) {
    const limit = Math.min(pageSize, max - read);
    const rows = await page(last === undefined ? undefined : afterKeys(keys, last), limit);
    if (rows.length > 0) yield rows;
    read += rows.length;
    last = rows.at(-1);
    if (rows.length < limit) return;
  }
}

/**
 * Refuses an export whose filter matches more than EXPORT_MAX_ROWS rows, then counts it against the caller's export
 * allowance (after the refusal, so a filter that is too wide costs none of it).
 */
export async function admitExport(c: Context<AppEnv>, db: Db, what: string, total: number): Promise<void> {
  if (total > EXPORT_MAX_ROWS) {
    throw new ApiError(
      "bad_request",
      `The filters match ${total} ${what}; an export holds at most ${EXPORT_MAX_ROWS}. Narrow the filters.`,
      { extra: { total, max_rows: EXPORT_MAX_ROWS } },
    );
  }
  const user = c.get("user") as AuthUser | undefined;
  const key = user ? `export:user:${user.id}` : `export:client:${await clientKey(c)}`;
  const limit = { key, max: EXPORT_MAX_PER_WINDOW, windowMs: EXPORT_WINDOW_SECONDS * 1000 };
  await takeAttempt(db, [limit], Date.now(), "Too many exports");
}

/** The streamed CSV answer: the header row, then a record per row of each page as the client reads. */
export function csvAnswer<Row>(
  c: Context<AppEnv>,
  options: {
    name: string;
    total: number;
    header: readonly string[];
    pages: AsyncIterable<Row[]>;
    record: (row: Row) => Cell[];
  },
): Response {
  const requestId = c.get("requestId");
  async function* records() {
    try {
      for await (const rows of options.pages) yield rows.map(options.record);
    } catch (error) {
      // The status and headers are gone already; the log line is what tells an operator why a download stopped.
      log("error", "export stopped while streaming", {
        request_id: requestId,
        export: options.name,
        ...errorFields(error),
      });
      throw error;
    }
  }
  return c.body(csvStream(options.header, records()), 200, {
    "Content-Type": CSV_CONTENT_TYPE,
    "Content-Disposition": csvDisposition(options.name, Date.now()),
    "X-Total-Count": String(options.total),
    "Cache-Control": "private, no-store",
  });
}
