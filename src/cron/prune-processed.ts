/**
 * `processed_messages` remembers applied queue message ids so a redelivery is a no-op. Only the `views` consumer
 * writes them now (rollups are idempotent by their own version, expiry notices by the task row). A key is needed
 * only while a copy of its message can still arrive: a queue keeps a message at most its retention period (4 days
 * by default; this app creates its queues with the default), and the consumer's retries (5, with backoff capped at
 * 5 minutes) add well under an hour. So keys go after KEY_RETENTION_DAYS (the 4 days plus a day of margin), not 30
 * days. Deleted in bounded chunks.
 */
export const QUEUE_RETENTION_DAYS = 4;
export const KEY_RETENTION_DAYS = QUEUE_RETENTION_DAYS + 1;
const CHUNK_ROWS = 5_000;
const MAX_CHUNKS = 100;

export async function pruneProcessedMessages(env: Env, now: Date): Promise<{ deleted: number; done: boolean }> {
  const cutoff = now.getTime() - KEY_RETENTION_DAYS * 86_400_000;
  const statement = env.DB.prepare(
    "DELETE FROM processed_messages WHERE id IN (SELECT id FROM processed_messages WHERE processed_at < ? LIMIT ?)",
  );
  let deleted = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS; chunk++) {
    const { meta } = await statement.bind(cutoff, CHUNK_ROWS).run();
    deleted += meta.changes;
    if (meta.changes < CHUNK_ROWS) return { deleted, done: true };
  }
  return { deleted, done: false };
}
