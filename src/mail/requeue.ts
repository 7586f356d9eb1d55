import { sendQueued } from "./enqueue";

/** A row still `queued` and never tried this long after it was written has no message on the queue. */
export const STALE_QUEUED_MS = 10 * 60 * 1000;
/** Bounded work per run; a larger backlog drains over the next minutes. */
export const REQUEUE_LIMIT = 500;

/**
 * The outbox row is committed before its queue message is sent (so a message never names a missing row); if the
 * send then fails, the row would wait forever. Every minute this finds such rows (still `queued`, no try, untouched
 * for STALE_QUEUED_MS), touches them so the next run skips them, and sends their messages again. A message that was
 * only slow rather than lost is harmless: the consumer acks a copy whose row is no longer pending, and its
 * compare-and-set claim stops two copies sending at once.
 */
export async function requeueStaleMail(env: Env, now: Date): Promise<{ requeued: number }> {
  const at = now.getTime();
  const { results } = await env.DB.prepare(
    `UPDATE outbox SET updated_at = ?1
     WHERE id IN (
       SELECT id FROM outbox WHERE status = 'queued' AND attempts = 0 AND updated_at < ?2
       ORDER BY created_at LIMIT ?3
     )
     RETURNING id`,
  )
    .bind(at, at - STALE_QUEUED_MS, REQUEUE_LIMIT)
    .all<{ id: string }>();
  await sendQueued(
    env,
    results.map(({ id }) => ({ body: { id }, contentType: "json" as const })),
  );
  return { requeued: results.length };
}
