import { type CursorRollupsMessage, CursorRollupsMessageSchema } from "../cursor/protocol";
import { log } from "../lib/log";
import { applyGroup } from "./backoff";

/** D1 binds at most 100 parameters per statement. */
export const MAX_BOUND_PARAMETERS = 100;
const ROLLUP_COLUMNS = 12;
export const ROLLUP_ROWS_PER_STATEMENT = Math.floor(MAX_BOUND_PARAMETERS / ROLLUP_COLUMNS);

/**
 * The statements for a batch of `cursor.rollups` messages. Every write is idempotent on its own, so redelivery,
 * retries, concurrent consumers and any order are harmless without a processed-message table:
 * - a rollup is a whole 10-second bucket; it is upserted only when its last_seq is newer than the stored one, and
 *   within one batch only the newest version of each bucket is kept (one statement never names a key twice);
 * - the end-of-session summary is written only when it counts at least as many events and the row has no end yet.
 */
export function rollupStatements(db: D1Database, messages: readonly CursorRollupsMessage[]): D1PreparedStatement[] {
  const newest = new Map<string, unknown[]>();
  for (const m of messages) {
    for (const r of m.rollups) {
      const key = `${m.session_id}\u0000${r.bucket_start}`;
      const existing = newest.get(key);
      if (!existing || (existing[9] as number) < r.last_seq) {
        newest.set(key, [
          m.session_id,
          r.bucket_start,
          r.distance,
          r.peak_speed,
          r.event_count,
          r.start_x,
          r.start_y,
          r.end_x,
          r.end_y,
          r.last_seq,
          r.total_distance,
          r.last_t,
        ]);
      }
    }
  }
  const statements: D1PreparedStatement[] = [];
  const rows = [...newest.values()];
  for (let i = 0; i < rows.length; i += ROLLUP_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROLLUP_ROWS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT INTO cursor_rollups (session_id, bucket_start, distance, peak_speed, event_count, start_x, start_y,
             end_x, end_y, last_seq, total_distance, last_t)
           VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}
           ON CONFLICT (session_id, bucket_start) DO UPDATE SET
             distance = excluded.distance, peak_speed = excluded.peak_speed, event_count = excluded.event_count,
             start_x = excluded.start_x, start_y = excluded.start_y, end_x = excluded.end_x, end_y = excluded.end_y,
             last_seq = excluded.last_seq, total_distance = excluded.total_distance, last_t = excluded.last_t
           WHERE excluded.last_seq > cursor_rollups.last_seq`,
        )
        .bind(...chunk.flat()),
    );
  }
  for (const m of messages) {
    const s = m.summary;
    if (!s) continue;
    statements.push(
      db
        .prepare(
          `UPDATE cursor_sessions SET event_count = ?1, total_distance = ?2, last_event_at = ?3, ended_at = ?4
           WHERE id = ?5 AND event_count <= ?1 AND (ended_at IS NULL OR event_count < ?1)`,
        )
        .bind(s.event_count, s.total_distance, s.last_event_at, s.ended_at, m.session_id),
    );
  }
  return statements;
}

export type TelemetryBatchResult = {
  messages: number;
  rollups: number;
  summaries: number;
  malformed: number;
  rows_written: number;
  retried: number;
};

/**
 * The `telemetry` queue's consumer: the whole batch in one db.batch() (one transaction; a batch holds at most 100
 * messages of at most 100 rollups, i.e. at most ~850 statements only in the worst case of 100 replays). A malformed
 * message can never succeed, so it is logged and acknowledged rather than retried into the DLQ. Logs one line per
 * batch with what it did.
 */
export async function handleTelemetryBatch(batch: MessageBatch<unknown>, env: Env): Promise<TelemetryBatchResult> {
  const valid: { message: Message<unknown>; body: CursorRollupsMessage }[] = [];
  let malformed = 0;
  for (const message of batch.messages) {
    const parsed = CursorRollupsMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else {
      malformed += 1;
      log("error", "malformed telemetry message acknowledged", { message_id: message.id });
      message.ack();
    }
  }
  const result: TelemetryBatchResult = {
    messages: batch.messages.length,
    rollups: valid.reduce((n, v) => n + v.body.rollups.length, 0),
    summaries: valid.filter((v) => v.body.summary).length,
    malformed,
    rows_written: 0,
    retried: 0,
  };
  if (valid.length > 0) {
    let ok = false;
    await applyGroup(
      valid.map((v) => v.message),
      "cursor rollups not written",
      async () => {
        const results = await env.DB.batch(
          rollupStatements(
            env.DB,
            valid.map((v) => v.body),
          ),
        );
        result.rows_written = results.reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0);
        ok = true;
      },
    );
    if (!ok) result.retried = valid.length;
  }
  log("info", "telemetry batch applied", { queue: batch.queue, ...result });
  return result;
}
