/**
 * `processed_messages` remembers applied queue message ids so a redelivery is a no-op. A
 * queue keeps an undelivered message at most 14 days, so ids older than that can never come back; keeping 30 days
 * leaves a wide margin. Deleted in bounded chunks like the cursor retention.
 */
export const PROCESSED_RETENTION_DAYS = 30;
const CHUNK_ROWS = 5_000;
const MAX_CHUNKS = 100;

export async function pruneProcessedMessages(env: Env, now: Date): Promise<{ deleted: number; done: boolean }> {
  const cutoff = now.getTime() - PROCESSED_RETENTION_DAYS * 86_400_000;
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
