import { type CursorEventsMessage, CursorEventsMessageSchema } from "../cursor/protocol";
import { log } from "../lib/log";
import type { AnalyticsMessage } from "./analytics";
import { applyGroup } from "./backoff";

/** D1 binds at most 100 parameters per statement. */
export const MAX_BOUND_PARAMETERS = 100;
const EVENT_COLUMNS = 5;
const SECOND_COLUMNS = 10;
export const EVENT_ROWS_PER_STATEMENT = Math.floor(MAX_BOUND_PARAMETERS / EVENT_COLUMNS);
export const SECOND_ROWS_PER_STATEMENT = Math.floor(MAX_BOUND_PARAMETERS / SECOND_COLUMNS);
/** Statements per db.batch(): one round trip and one transaction each, well inside D1's per-invocation limits. */
export const MAX_STATEMENTS_PER_BATCH = 200;

/**
 * Every write here is idempotent on its own, so redelivery, retries and out-of-order delivery are harmless
 * without a processed-message table:
 * - raw events: INSERT OR IGNORE keyed (session_id, seq); seq is assigned once by the Durable Object;
 * - per-second rows: upserted only when the incoming last_seq is newer (a second can span two batches, and an
 *   older partial of it must never overwrite a newer one);
 * - the session summary: written only when it counts more events than what is stored.
 */
export function cursorStatements(db: D1Database, messages: readonly CursorEventsMessage[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const events = messages.flatMap((m) => m.events.map((e) => [m.session_id, e.seq, e.x, e.y, e.t]));
  for (let i = 0; i < events.length; i += EVENT_ROWS_PER_STATEMENT) {
    const rows = events.slice(i, i + EVENT_ROWS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO cursor_events (session_id, seq, x, y, t) VALUES ${rows.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
        )
        .bind(...rows.flat()),
    );
  }

  // Within one consumer batch, keep only the newest version of each second, so one statement never names a key twice.
  const newest = new Map<string, unknown[]>();
  for (const m of messages) {
    for (const s of m.seconds) {
      const key = `${m.session_id}\u0000${s.second}`;
      const existing = newest.get(key);
      if (!existing || (existing[9] as number) < s.last_seq) {
        newest.set(key, [
          m.session_id,
          s.second,
          s.distance,
          s.peak_speed,
          s.event_count,
          s.start_x,
          s.start_y,
          s.end_x,
          s.end_y,
          s.last_seq,
        ]);
      }
    }
  }
  const seconds = [...newest.values()];
  for (let i = 0; i < seconds.length; i += SECOND_ROWS_PER_STATEMENT) {
    const rows = seconds.slice(i, i + SECOND_ROWS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT INTO cursor_seconds
             (session_id, second, distance, peak_speed, event_count, start_x, start_y, end_x, end_y, last_seq)
           VALUES ${rows.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}
           ON CONFLICT (session_id, second) DO UPDATE SET
             distance = excluded.distance, peak_speed = excluded.peak_speed, event_count = excluded.event_count,
             start_x = excluded.start_x, start_y = excluded.start_y, end_x = excluded.end_x, end_y = excluded.end_y,
             last_seq = excluded.last_seq
           WHERE excluded.last_seq > cursor_seconds.last_seq`,
        )
        .bind(...rows.flat()),
    );
  }

  const summaries = new Map<string, NonNullable<CursorEventsMessage["summary"]>>();
  for (const m of messages) {
    const current = summaries.get(m.session_id);
    if (m.summary && (!current || current.event_count < m.summary.event_count)) summaries.set(m.session_id, m.summary);
  }
  for (const [sessionId, s] of summaries) {
    statements.push(
      db
        .prepare(
          `UPDATE cursor_sessions SET event_count = ?1, total_distance = ?2, last_event_at = ?3
           WHERE id = ?4 AND event_count < ?1`,
        )
        .bind(s.event_count, s.total_distance, s.last_event_at, sessionId),
    );
  }
  return statements;
}

/**
 * The `cursor.events` handler of the analytics queue. Messages are written in groups whose statements fit one
 * db.batch() (one transaction); a group that fails is retried with backoff, the others are acknowledged.
 * A malformed message can never succeed, so it is logged and acknowledged rather than retried into the DLQ.
 */
export async function handleCursorEvents(messages: Message<AnalyticsMessage>[], env: Env): Promise<void> {
  const valid: { message: Message<AnalyticsMessage>; body: CursorEventsMessage }[] = [];
  for (const message of messages) {
    const parsed = CursorEventsMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else {
      log("error", "malformed cursor.events message acknowledged", { message_id: message.id });
      message.ack();
    }
  }

  let group: typeof valid = [];
  let statementEstimate = 0;
  const flush = async () => {
    if (group.length === 0) return;
    const current = group;
    group = [];
    statementEstimate = 0;
    await applyGroup(
      current.map((g) => g.message),
      "cursor events not written",
      () =>
        env.DB.batch(
          cursorStatements(
            env.DB,
            current.map((g) => g.body),
          ),
        ),
    );
  };
  for (const entry of valid) {
    const estimate =
      Math.ceil(entry.body.events.length / EVENT_ROWS_PER_STATEMENT) +
      Math.ceil(entry.body.seconds.length / SECOND_ROWS_PER_STATEMENT) +
      1;
    if (group.length > 0 && statementEstimate + estimate > MAX_STATEMENTS_PER_BATCH) await flush();
    group.push(entry);
    statementEstimate += estimate;
  }
  await flush();
}
