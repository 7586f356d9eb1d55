import { cursorSessionStub } from "../cursor/cursor-session";
import { intVar } from "../lib/config";
import { errorFields, log } from "../lib/log";

export const DEFAULT_RETENTION_DAYS = 30;
/** Rows deleted per statement: small enough that one DELETE never holds D1 for long. */
export const PRUNE_CHUNK_ROWS = 5_000;
/** Chunks per run: bounds the work of one cron invocation; whatever is left goes tomorrow (or on the next run). */
export const PRUNE_MAX_CHUNKS = 100;

export type PruneResult = { cutoff: string; deleted: number; chunks: number; done: boolean };

export function retentionDays(env: Env): number {
  const days = intVar(env.CURSOR_RETENTION_DAYS, DEFAULT_RETENTION_DAYS);
  return days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

/**
 * Deletes raw cursor events older than the retention window in bounded chunks (the `t` index finds them). The
 * per-second aggregates in cursor_seconds are kept, so stats stay available after the raw points are gone.
 */
export async function pruneCursorEvents(
  db: D1Database,
  now: Date,
  options: { retentionDays: number; chunkRows?: number; maxChunks?: number },
): Promise<PruneResult> {
  const chunkRows = options.chunkRows ?? PRUNE_CHUNK_ROWS;
  const maxChunks = options.maxChunks ?? PRUNE_MAX_CHUNKS;
  const cutoff = now.getTime() - options.retentionDays * 86_400_000;
  const statement = db.prepare(
    "DELETE FROM cursor_events WHERE rowid IN (SELECT rowid FROM cursor_events WHERE t < ? LIMIT ?)",
  );
  let deleted = 0;
  let chunks = 0;
  let done = false;
  while (chunks < maxChunks) {
    const result = await statement.bind(cutoff, chunkRows).run();
    chunks += 1;
    deleted += result.meta.changes;
    if (result.meta.changes < chunkRows) {
      done = true;
      break;
    }
  }
  return { cutoff: new Date(cutoff).toISOString(), deleted, chunks, done };
}

/** Sessions removed per run: each costs one Durable Object call; whatever is left goes on the next run. */
export const MAX_SESSIONS_PER_RUN = 200;

export type ExpireResult = { cutoff: string; sessions: number; failed: number; more: boolean };

/**
 * Sessions created before the retention window lose everything they stored: first the object's storage
 * (`deleteAll`, sockets closed), then their D1 rows in one batch. A session whose object fails keeps its D1 rows,
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
const CURSOR_SESSION_TABLES = ["cursor_events", "cursor_seconds"] as const;

/** The daily cron job: whole sessions past retention, then raw events of sessions still kept. */
export async function cursorRetention(env: Env, now: Date) {
  const days = retentionDays(env);
  const sessions = await expireCursorSessions(env, now, { retentionDays: days });
  const events = await pruneCursorEvents(env.DB, now, { retentionDays: days });
  return { sessions, events };
}
