import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { insertSelect } from "../../db/insert-select";
import { cursorSessions } from "../../db/schema";

/**
 * Sessions started per hour, by all clients together (a sliding hour). Every store a session can grow (its object's
 * storage, its archive in R2, its D1 rows, its queue messages) has a bound per session; this budget bounds how many
 * sessions there are, and retention (src/cron/retention.ts) removes them far faster than this lets them come
 * (docs/hardening.md, "Bounded stores"). A person opening the page is a session; 200 an hour is far above what this
 * back office's page sees, and a flood that spends it stops new captures for an hour, never anything else.
 */
export const MAX_SESSIONS_PER_HOUR = 200;
const HOUR_MS = 3_600_000;

/**
 * Inserts the session's row unless MAX_SESSIONS_PER_HOUR sessions were started in the hour before `createdAt`: one
 * statement, so racing requests cannot overshoot (D1 runs one statement at a time), reading at most the budget's
 * index entries. True when inserted.
 */
export async function insertSessionWithinBudget(
  db: Db,
  values: { id: string; label: string | null; viewportWidth: number; viewportHeight: number; createdAt: number },
): Promise<boolean> {
  const inserted = await insertSelect(db, cursorSessions, values, {
    where: sql`(SELECT count(*) FROM ${cursorSessions} WHERE ${cursorSessions.createdAt} > ${values.createdAt - HOUR_MS}) < ${MAX_SESSIONS_PER_HOUR}`,
  }).returning({ id: cursorSessions.id });
  return inserted.length === 1;
}
