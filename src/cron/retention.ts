import { cursorSessionStub } from "../cursor/cursor-session";
import { errorFields, log } from "../lib/log";
import { settings } from "../lib/settings";

/**
 * Sessions removed per run. Retention runs every minute, so it removes up to 36,000 sessions a day: far more than the
 * 4,800 a day MAX_SESSIONS_PER_HOUR lets all clients together start (src/routes/cursor/cursor.queries.ts), so it
 * always keeps up. Each session costs one Durable Object call, so a run makes at most this many.
 */
export const SESSIONS_PER_RUN = 25;
/** Rows one DELETE removes at most; a run deletes a page's rollups in as many statements as that takes. */
export const ROWS_PER_STATEMENT = 1_000;
/** Statements one run sends at most (one D1 batch each); a session whose rows are not all gone is found again. */
export const STATEMENTS_PER_RUN = 20;

export type ExpireResult = { cutoff: string; sessions: number; failed: number; statements: number; more: boolean };

export type RetentionPace = { sessionsPerRun?: number; rowsPerStatement?: number; statementsPerRun?: number };

/**
 * Sessions created before the retention window lose everything they stored, a bounded page per run: first each
 * object's storage and R2 archive (`purge()`: archive deleted, `deleteAll`, sockets closed), then their rollup rows in
 * DELETEs of at most ROWS_PER_STATEMENT rows, then their session rows. A session whose object fails, or whose rollups
 * are not all deleted within the run's statements, keeps its session row, so the next run finds it again (purging
 * an object twice is harmless).
 */
export async function expireCursorSessions(
  env: Env,
  now: Date,
  options: { retentionDays: number } & RetentionPace,
): Promise<ExpireResult> {
  const sessionsPerRun = options.sessionsPerRun ?? SESSIONS_PER_RUN;
  const rowsPerStatement = options.rowsPerStatement ?? ROWS_PER_STATEMENT;
  const statementsPerRun = options.statementsPerRun ?? STATEMENTS_PER_RUN;
  const cutoff = now.getTime() - options.retentionDays * 86_400_000;
  const { results } = await env.DB.prepare(
    "SELECT id FROM cursor_sessions WHERE created_at < ? ORDER BY created_at LIMIT ?",
  )
    .bind(cutoff, sessionsPerRun + 1)
    .all<{ id: string }>();
  const ids = results.slice(0, sessionsPerRun).map((r) => r.id);
  const purged: string[] = [];
  let failed = 0;
  await Promise.all(
    ids.map(async (id) => {
      try {
        await cursorSessionStub(env, id).purge();
        purged.push(id);
      } catch (error) {
        failed += 1;
        log("error", "cursor session storage not deleted; retried next run", { session_id: id, ...errorFields(error) });
      }
    }),
  );
  let statements = 0;
  let rowsLeft = purged.length > 0;
  const marks = purged.map(() => "?").join(", ");
  while (rowsLeft && statements < statementsPerRun) {
    const deleted = await env.DB.prepare(
      `DELETE FROM cursor_rollups WHERE (session_id, bucket_start) IN
         (SELECT session_id, bucket_start FROM cursor_rollups WHERE session_id IN (${marks}) LIMIT ?)`,
    )
      .bind(...purged, rowsPerStatement)
      .run();
    statements += 1;
    rowsLeft = deleted.meta.changes >= rowsPerStatement;
  }
  let removed = 0;
  if (purged.length > 0 && !rowsLeft && statements < statementsPerRun) {
    await env.DB.prepare(`DELETE FROM cursor_sessions WHERE id IN (${marks})`)
      .bind(...purged)
      .run();
    statements += 1;
    removed = purged.length;
  }
  return {
    cutoff: new Date(cutoff).toISOString(),
    sessions: removed,
    failed,
    statements,
    more: results.length > sessionsPerRun || removed < purged.length,
  };
}

/** The cron job: whole sessions past CURSOR_RETENTION_DAYS (their objects' storage, archives and D1 rows). */
export function cursorRetention(env: Env, now: Date): Promise<ExpireResult> {
  return expireCursorSessions(env, now, { retentionDays: settings(env).cursorRetentionDays });
}
