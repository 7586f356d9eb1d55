import { deleteInPages } from "../cron/prune-processed";

/**
 * The outbox is a log admins read, not an archive: a mail is kept OUTBOX_RETENTION_DAYS (its delivery, retries and
 * dead-lettering are over within hours), then the daily cron deletes it, a page at a time through outbox_created_idx.
 * The same run erases any sealed account token still in a row after a day (the longest an account token lives),
 * e.g. of a row whose queue message was lost and never retried (src/mail/seal.ts).
 */
export const OUTBOX_RETENTION_DAYS = 30;
const DAY = 86_400_000;
const ACCOUNT_TOKEN_MAX_AGE_MS = DAY;

export async function pruneOutbox(env: Env, now: Date) {
  const at = now.getTime();
  const sealed = await env.DB.prepare(
    "UPDATE outbox SET sealed_token = NULL WHERE sealed_token IS NOT NULL AND created_at < ?",
  )
    .bind(at - ACCOUNT_TOKEN_MAX_AGE_MS)
    .run();
  const pruned = await deleteInPages(env.DB, "outbox", "id", "created_at", at - OUTBOX_RETENTION_DAYS * DAY);
  return { ...pruned, sealed_tokens_erased: sealed.meta.changes };
}
