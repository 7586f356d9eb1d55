import { PRUNE_AFTER_MS } from "../auth/rate-limit";
import { settings } from "../lib/settings";

/**
 * Daily housekeeping of the tables that only grow: each deletes what is past its retention, oldest first through an
 * index on the age column, in pages of PAGE_ROWS, at most MAX_PAGES a run (a backlog beyond that continues the next
 * day and is reported as `done: false`). Bounded pages keep every statement short: one huge DELETE would hold D1's
 * single writer for as long as it runs.
 */
export const PAGE_ROWS = 10_000;
export const MAX_PAGES = 100;

export type Pruned = { deleted: number; done: boolean };

/**
 * Deletes the rows of `table` whose `column` is below `cutoff`, a page at a time, through `key` (the primary key).
 * The names are this module's own constants, never input.
 */
export async function deleteInPages(
  db: D1Database,
  table: string,
  key: string,
  column: string,
  cutoff: number,
  { pageRows = PAGE_ROWS, maxPages = MAX_PAGES } = {},
): Promise<Pruned> {
  const statement = db.prepare(
    `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${column} < ? ORDER BY ${column} LIMIT ?)`,
  );
  let deleted = 0;
  for (let page = 0; page < maxPages; page++) {
    const { meta } = await statement.bind(cutoff, pageRows).run();
    deleted += meta.changes;
    if (meta.changes < pageRows) return { deleted, done: true };
  }
  return { deleted, done: false };
}

/**
 * `processed_messages` remembers applied queue message ids so a redelivery is a no-op. Only the `views` consumer
 * writes them now (rollups are idempotent by their own version, expiry notices by the task row). A key is needed
 * only while a copy of its message can still arrive: a queue keeps a message at most its retention period (4 days
 * by default; this app creates its queues with the default), and the consumer's retries (5, with backoff capped at
 * 5 minutes) add well under an hour. So keys go after KEY_RETENTION_DAYS (the 4 days plus a day of margin), not 30
 * days.
 */
export const QUEUE_RETENTION_DAYS = 4;
export const KEY_RETENTION_DAYS = QUEUE_RETENTION_DAYS + 1;

/**
 * A run may delete twice the rows the views budget lets in a day (VIEWS_MAX_PER_DAY, one key per counted view), so
 * the prune outruns the most the consumer can write and a backlog drains.
 */
export function pruneProcessedMessages(env: Env, now: Date): Promise<Pruned> {
  const cutoff = now.getTime() - KEY_RETENTION_DAYS * 86_400_000;
  const maxPages = Math.max(MAX_PAGES, Math.ceil((2 * settings(env).viewsMaxPerDay) / PAGE_ROWS));
  return deleteInPages(env.DB, "processed_messages", "id", "processed_at", cutoff, { maxPages });
}

/** In-app notifications older than NOTIFICATION_RETENTION_DAYS, read or not. */
export function pruneNotifications(env: Env, now: Date): Promise<Pruned> {
  const cutoff = now.getTime() - settings(env).notificationRetentionDays * 86_400_000;
  return deleteInPages(env.DB, "notifications", "id", "created_at", cutoff);
}

/**
 * Rate-limit counters idle for PRUNE_AFTER_MS (a day, longer than any window). Counted attempts drop a page of them
 * as they go (src/auth/rate-limit.ts); this catches what a quiet day leaves.
 */
export function pruneRateLimits(env: Env, now: Date): Promise<Pruned> {
  // window_start <= now - PRUNE_AFTER_MS, as the attempts' own prune.
  return deleteInPages(env.DB, "rate_limits", "key", "window_start", now.getTime() - PRUNE_AFTER_MS + 1);
}
