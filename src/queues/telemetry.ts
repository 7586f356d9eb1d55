import { type CursorRollupsMessage, CursorRollupsMessageSchema, type Rollup, RollupSchema } from "../cursor/protocol";
import { log } from "../lib/log";
import { applyGroup } from "./backoff";

/** D1 binds at most 100 parameters per statement. */
export const MAX_BOUND_PARAMETERS = 100;
/** The columns of `cursor_rollups` besides `session_id`: the rollup's own fields, named alike. */
const ROLLUP_COLUMNS = Object.keys(RollupSchema.shape) as (keyof Rollup)[];
export const ROLLUP_ROWS_PER_STATEMENT = Math.floor(MAX_BOUND_PARAMETERS / (ROLLUP_COLUMNS.length + 1));

/**
 * The statements for a batch of `cursor.rollups` messages. Every write is idempotent on its own, so redelivery,
 * retries, concurrent consumers and any order are harmless without a processed-message table:
 * - a rollup is a whole 10-second bucket; it is upserted only when its last_seq is newer than the stored one, and
 *   within one batch only the newest version of each bucket is kept (one statement never names a key twice);
 * - the end-of-session summary is written only when it counts at least as many events and the row has no end yet.
 */
export function rollupStatements(db: D1Database, messages: readonly CursorRollupsMessage[]): D1PreparedStatement[] {
  const newest = new Map<string, { sessionId: string; rollup: Rollup }>();
  for (const m of messages) {
    for (const rollup of m.rollups) {
      const key = `${m.session_id}\u0000${rollup.bucket_start}`;
      const existing = newest.get(key);
      if (!existing || existing.rollup.last_seq < rollup.last_seq) newest.set(key, { sessionId: m.session_id, rollup });
    }
  }
  const statements: D1PreparedStatement[] = [];
  const rows = [...newest.values()];
  const placeholders = `(${["?", ...ROLLUP_COLUMNS.map(() => "?")].join(", ")})`;
  const updates = ROLLUP_COLUMNS.filter((c) => c !== "bucket_start").map((c) => `${c} = excluded.${c}`);
  for (let i = 0; i < rows.length; i += ROLLUP_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROLLUP_ROWS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT INTO cursor_rollups (session_id, ${ROLLUP_COLUMNS.join(", ")})
           VALUES ${chunk.map(() => placeholders).join(", ")}
           ON CONFLICT (session_id, bucket_start) DO UPDATE SET ${updates.join(", ")}
           WHERE excluded.last_seq > cursor_rollups.last_seq`,
        )
        .bind(...chunk.flatMap(({ sessionId, rollup }) => [sessionId, ...ROLLUP_COLUMNS.map((c) => rollup[c])])),
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
 * The `telemetry` queue's consumer: it writes the rollups (and end summaries) the session objects send, the whole
 * batch in one db.batch() (one transaction; a batch holds at most 100 messages of at most 100 rollups, i.e. at most
 * ~1,300 statements only in the worst case of 100 full backlogs). A malformed message can never succeed, so it is
 * logged and acknowledged rather than retried into the DLQ. Logs one line per batch with what it did.
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
