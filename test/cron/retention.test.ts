import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EVERY_MINUTE } from "../../src/cron";
import {
  expireCursorSessions,
  ROWS_PER_STATEMENT,
  SESSIONS_PER_RUN,
  STATEMENTS_PER_RUN,
} from "../../src/cron/retention";
import { archiveKey } from "../../src/cursor/archive";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { MAX_ROLLUPS_PER_SESSION } from "../../src/cursor/outbox";
import worker from "../../src/index";
import { settings } from "../../src/lib/settings";
import { MAX_SESSIONS_PER_HOUR } from "../../src/routes/cursor/cursor.queries";
import { createSession, postEvents, waitForStoredEvents } from "../cursor/helpers";
import { api } from "../helpers";

const DAY = 86_400_000;
const RETENTION_DAYS = settings(env).cursorRetentionDays;

/** A session known to D1 only (its object was never used), with `rollups` rollup rows: retention copes with that. */
async function seed(createdAt: number, rollups = 1) {
  const id = crypto.randomUUID();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at) VALUES (?, 1, 1, ?)",
    ).bind(id, createdAt),
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
       INSERT INTO cursor_rollups (session_id, bucket_start, distance, peak_speed, event_count, start_x, start_y,
         end_x, end_y, last_seq, total_distance, last_t)
       SELECT ?1, ?3 + i * 10, 5, 5, 1, 0, 0, 3, 4, i, 5, ?4 FROM n`,
    ).bind(id, rollups, Math.floor(createdAt / 10_000) * 10, createdAt),
  ]);
  return id;
}

const rows = async (id: string) =>
  (await env.DB.prepare(
    "SELECT (SELECT count(*) FROM cursor_sessions WHERE id = ?1) + (SELECT count(*) FROM cursor_rollups WHERE session_id = ?1) AS n",
  )
    .bind(id)
    .first<{ n: number }>())!.n;

describe("cursor retention (every minute)", () => {
  it("removes a session created before CURSOR_RETENTION_DAYS: its archive, its object's storage, its D1 rows", async () => {
    const old = await createSession();
    const kept = await createSession();
    for (const s of [old, kept]) {
      expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: s.server_time }])).status).toBe(202);
      await waitForStoredEvents(s.id, 1);
    }
    // The old one has ended, so it also has an archive in R2.
    expect((await api(`/cursor/sessions/${old.id}`, { method: "DELETE", token: old.token })).status).toBe(204);
    const key = archiveKey(old.id, (await cursorSessionStub(env, old.id).snapshot())!.created_at);
    expect(await env.ARCHIVE.head(key)).not.toBeNull();
    await env.DB.prepare("UPDATE cursor_sessions SET created_at = ? WHERE id = ?")
      .bind(Date.now() - (RETENTION_DAYS + 1) * DAY, old.id)
      .run();
    await worker.scheduled(createScheduledController({ cron: EVERY_MINUTE, scheduledTime: Date.now() }), env);
    expect(await rows(old.id)).toBe(0);
    expect(await rows(kept.id)).toBeGreaterThan(1);
    await runInDurableObject(cursorSessionStub(env, old.id), async (_i: CursorSession, state) => {
      const tables = state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray();
      expect(tables).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
    });
    expect(await env.ARCHIVE.head(key)).toBeNull();
    expect((await cursorSessionStub(env, kept.id).snapshot())?.event_count).toBe(1);
  }, 20_000);

  it("works in bounded pages: sessions per run, rows per DELETE, statements per run; the next run goes on", async () => {
    const now = Date.now();
    const ids = [await seed(now - 50 * DAY, 12), await seed(now - 49 * DAY, 12), await seed(now - 48 * DAY, 12)];
    const pace = { retentionDays: RETENTION_DAYS, sessionsPerRun: 2, rowsPerStatement: 5, statementsPerRun: 3 };
    // Two sessions' 24 rows need five DELETEs of five: the run stops after three, keeping both session rows.
    const first = await expireCursorSessions(env, new Date(now), pace);
    expect(first).toMatchObject({ sessions: 0, statements: 3, more: true });
    expect((await rows(ids[0]!)) + (await rows(ids[1]!))).toBe(2 + 24 - 15);
    const second = await expireCursorSessions(env, new Date(now), pace);
    expect(second).toMatchObject({ sessions: 2, statements: 3, more: true });
    expect(await rows(ids[0]!)).toBe(0);
    expect(await rows(ids[1]!)).toBe(0);
    expect(await rows(ids[2]!)).toBe(13);
    // Twelve rows in DELETEs of five take the whole run; the session row goes on the next.
    expect(await expireCursorSessions(env, new Date(now), pace)).toMatchObject({ sessions: 0, more: true });
    const third = await expireCursorSessions(env, new Date(now), pace);
    expect(third).toMatchObject({ sessions: 1, more: false });
    expect(await rows(ids[2]!)).toBe(0);
    expect(third.cutoff).toBe(new Date(now - RETENTION_DAYS * DAY).toISOString());
  });

  it("keeps pace with the most sessions all clients may start: a run removes a full page of the largest", async () => {
    // A day of runs removes more than a day of the session budget lets in.
    expect(SESSIONS_PER_RUN * 24 * 60).toBeGreaterThan(MAX_SESSIONS_PER_HOUR * 24);
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 2 * SESSIONS_PER_RUN; i++) ids.push(await seed(now - 40 * DAY + i, MAX_ROLLUPS_PER_SESSION));
    for (const run of [1, 2]) {
      const result = await expireCursorSessions(env, new Date(now), { retentionDays: RETENTION_DAYS });
      expect(result).toMatchObject({ sessions: SESSIONS_PER_RUN, failed: 0, more: run === 1 });
      expect(result.statements).toBeLessThanOrEqual(STATEMENTS_PER_RUN);
      expect(result.statements).toBe(
        Math.ceil((SESSIONS_PER_RUN * MAX_ROLLUPS_PER_SESSION + 1) / ROWS_PER_STATEMENT) + 1,
      );
    }
    for (const id of ids) expect(await rows(id)).toBe(0);
  }, 60_000);
});
