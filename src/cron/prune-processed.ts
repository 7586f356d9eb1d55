import { PRODUCT_VIEW_QUEUE } from "../queues/product-views";

/**
 * `processed_messages` remembers applied queue message ids (and task expiry claims) so a redelivery is a no-op.
 * A view's key is needed only while a copy of its message can still arrive: a queue keeps a message at most its
 * retention period (4 days by default; this app creates its queues with the default) and the retries of the
 * `views` consumer (5, with backoff capped at 5 minutes) add well under an hour. So view keys go after
 * VIEW_KEY_RETENTION_DAYS (the 4 days plus a day of margin) instead of 30 days. Other keys (task expiry claims,
 * whose tasks can be re-armed weeks later) keep PROCESSED_RETENTION_DAYS. Deleted in bounded chunks.
 */
export const PROCESSED_RETENTION_DAYS = 30;
export const QUEUE_RETENTION_DAYS = 4;
export const VIEW_KEY_RETENTION_DAYS = QUEUE_RETENTION_DAYS + 1;
/** Keys the views consumer wrote under the queue's earlier name. */
const VIEW_QUEUES = [PRODUCT_VIEW_QUEUE, "analytics"];
const CHUNK_ROWS = 5_000;
const MAX_CHUNKS = 100;

export async function pruneProcessedMessages(
  env: Env,
  now: Date,
): Promise<{ deleted: number; views: number; done: boolean }> {
  const cutoff = now.getTime() - PROCESSED_RETENTION_DAYS * 86_400_000;
  const viewCutoff = now.getTime() - VIEW_KEY_RETENTION_DAYS * 86_400_000;
  const marks = VIEW_QUEUES.map(() => "?").join(", ");
  const views = env.DB.prepare(
    `DELETE FROM processed_messages WHERE id IN
       (SELECT id FROM processed_messages WHERE processed_at < ? AND queue IN (${marks}) LIMIT ?)`,
  );
  const others = env.DB.prepare(
    "DELETE FROM processed_messages WHERE id IN (SELECT id FROM processed_messages WHERE processed_at < ? LIMIT ?)",
  );
  let deleted = 0;
  let viewsDeleted = 0;
  let chunks = 0;
  for (; chunks < MAX_CHUNKS; chunks++) {
    const { meta } = await views.bind(viewCutoff, ...VIEW_QUEUES, CHUNK_ROWS).run();
    viewsDeleted += meta.changes;
    if (meta.changes < CHUNK_ROWS) break;
  }
  for (; chunks < MAX_CHUNKS; chunks++) {
    const { meta } = await others.bind(cutoff, CHUNK_ROWS).run();
    deleted += meta.changes;
    if (meta.changes < CHUNK_ROWS) return { deleted: deleted + viewsDeleted, views: viewsDeleted, done: true };
  }
  return { deleted: deleted + viewsDeleted, views: viewsDeleted, done: false };
}
