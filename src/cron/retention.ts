import { intVar } from "../lib/config";

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

/** The daily cron job. */
export function cursorRetention(env: Env, now: Date): Promise<PruneResult> {
  return pruneCursorEvents(env.DB, now, { retentionDays: retentionDays(env) });
}
