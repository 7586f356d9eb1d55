import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { clientKey } from "../auth/client";
import { limits, takeAttempt } from "../auth/rate-limit";
import type { Db } from "../db/client";
import type { AppEnv } from "../env";
import { type Cell, CSV_CONTENT_TYPE, csvDisposition, csvStream } from "./csv";
import { ApiError } from "./errors";
import { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS, EXPORT_WINDOW_SECONDS } from "./export-limits";
import { errorFields, log } from "./log";

/**
 * CSV exports of a filtered list (`GET /tasks/export`, `GET /products/export`): the list's own query, authorization
 * and filters, every matching row instead of one page. The ids come first, in the list's order, in one read with a
 * limit (the list's ORDER BY, through the index it uses; at most EXPORT_MAX_ROWS of them, about 360 KB); the rows
 * then follow page by page by primary key while the body streams, so the whole result is never held. D1 reads each
 * exported row a fixed few times (4 to 5 as it counts them), where OFFSET pages would read every earlier page again
 * and keyset pages over a sort key with an expression in it (`expires_at IS NULL`) cannot use an index.
 */

export { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS, EXPORT_WINDOW_SECONDS };

export const EXPORT_RULES =
  `Every row the filters match, in the list's order, as RFC 4180 CSV with a header row (UTF-8, CRLF). At most ` +
  `${EXPORT_MAX_ROWS.toLocaleString("en")} rows: a filter that matches more is a 400 that says how many it matched ` +
  `(narrow it). \`limit\` and \`offset\` are not part of an export. Text a spreadsheet would run as a formula (a ` +
  "cell starting with `=`, `+`, `-`, `@`, tab or CR) starts with `'` instead. Each caller may start " +
  `${EXPORT_MAX_PER_WINDOW} exports per ${EXPORT_WINDOW_SECONDS / 60} minutes (429 with Retry-After). ` +
  "`X-Total-Count` says how many rows follow: the rows matching when the export started, in that order (one deleted " +
  "meanwhile is left out; one changed meanwhile is written as it is now). The rows are read page by page while the " +
  "body streams; an error after the first byte ends the body early.";

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

/**
 * The rows of `ids`, `pageSize` at a time, in the order of `ids`: each page is one read by primary key, made only when
 * the client has taken the page before. A row deleted since the ids were read is left out.
 */
export async function* pagesOf<Row>(
  ids: readonly string[],
  pageSize: number,
  load: (ids: string[]) => Promise<Row[]>,
  idOf: (row: Row) => string,
): AsyncGenerator<Row[]> {
  for (let start = 0; start < ids.length; start += pageSize) {
    const chunk = ids.slice(start, start + pageSize);
    const byId = new Map((await load(chunk)).map((row) => [idOf(row), row]));
    yield chunk.flatMap((id) => {
      const row = byId.get(id);
      return row ? [row] : [];
    });
  }
}

/**
 * Refuses an export whose filter matches more than EXPORT_MAX_ROWS rows (`matched` is the id list, read with a limit
 * of one more; `count` tells the exact number for the refusal), then counts it against the caller's export allowance
 * (after the refusal, so a filter that is too wide costs none of it).
 */
export async function admitExport<E extends AppEnv>(
  c: Context<E>,
  db: Db,
  caller: { id: string } | undefined,
  what: string,
  matched: number,
  count: () => Promise<number>,
): Promise<void> {
  if (matched > EXPORT_MAX_ROWS) {
    const total = await count();
    throw new ApiError(
      "bad_request",
      `The filters match ${total} ${what}; an export holds at most ${EXPORT_MAX_ROWS}. Narrow the filters.`,
      { extra: { total, max_rows: EXPORT_MAX_ROWS } },
    );
  }
  const limit = limits.exports(caller ? { userId: caller.id } : { client: await clientKey(c) });
  await takeAttempt(db, [limit], Date.now(), "Too many exports");
}

/** The streamed CSV answer: the header row, then a record per row of each page as the client reads. */
export function csvAnswer<Row, E extends AppEnv>(
  c: Context<E>,
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
