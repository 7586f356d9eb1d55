import { cursorSessionStub } from "../cursor/cursor-session";
import { errorFields, log } from "../lib/log";
import { settings } from "../lib/settings";

/** Sessions removed per run: each costs one Durable Object call; whatever is left goes on the next run. */
export const MAX_SESSIONS_PER_RUN = 200;

export type ExpireResult = { cutoff: string; sessions: number; failed: number; more: boolean };

/**
 * Sessions created before the retention window lose everything they stored: first the object's storage and the
 * R2 archive (`purge()`: archive deleted, `deleteAll`, sockets closed), then their D1 rows in one batch. A session whose object fails keeps its D1 rows,
 * so the next run finds it again.
 */
export async function expireCursorSessions(
  env: Env,
  now: Date,
  options: { retentionDays: number; maxSessions?: number },
): Promise<ExpireResult> {
  const maxSessions = options.maxSessions ?? MAX_SESSIONS_PER_RUN;
  const cutoff = now.getTime() - options.retentionDays * 86_400_000;
  const { results } = await env.DB.prepare(
    "SELECT id FROM cursor_sessions WHERE created_at < ? ORDER BY created_at LIMIT ?",
  )
    .bind(cutoff, maxSessions + 1)
    .all<{ id: string }>();
  const ids = results.slice(0, maxSessions).map((r) => r.id);
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
  if (purged.length > 0) {
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < purged.length; i += 90) {
      const chunk = purged.slice(i, i + 90);
      const marks = chunk.map(() => "?").join(", ");
      for (const table of CURSOR_SESSION_TABLES) {
        statements.push(env.DB.prepare(`DELETE FROM ${table} WHERE session_id IN (${marks})`).bind(...chunk));
      }
      statements.push(env.DB.prepare(`DELETE FROM cursor_sessions WHERE id IN (${marks})`).bind(...chunk));
    }
    await env.DB.batch(statements);
  }
  return {
    cutoff: new Date(cutoff).toISOString(),
    sessions: purged.length,
    failed,
    more: results.length > maxSessions,
  };
}

/** D1 tables holding rows of one cursor session (besides cursor_sessions itself). */
const CURSOR_SESSION_TABLES = ["cursor_rollups"] as const;

/** The daily cron job: whole sessions past retention (their objects' storage, archives and D1 rows). */
export function cursorRetention(env: Env, now: Date): Promise<ExpireResult> {
  return expireCursorSessions(env, now, { retentionDays: settings(env).cursorRetentionDays });
}
