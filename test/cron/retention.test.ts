import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY } from "../../src/cron";
import { expireCursorSessions } from "../../src/cron/retention";
import worker from "../../src/index";
import { settings } from "../../src/lib/settings";

const DAY = 86_400_000;

/** A session known to D1 only (its object was never used): retention must cope with that too. */
async function seed(createdAt: number) {
  const id = crypto.randomUUID();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at) VALUES (?, 1, 1, ?)",
    ).bind(id, createdAt),
    env.DB.prepare(
      `INSERT INTO cursor_rollups (session_id, bucket_start, distance, peak_speed, event_count, start_x, start_y,
         end_x, end_y, last_seq, total_distance, last_t) VALUES (?, ?, 5, 5, 1, 0, 0, 3, 4, 0, 5, ?)`,
    ).bind(id, Math.floor(createdAt / 10_000) * 10, createdAt),
  ]);
  return id;
}

const rows = async (id: string) =>
  (await env.DB.prepare(
    "SELECT (SELECT count(*) FROM cursor_sessions WHERE id = ?1) + (SELECT count(*) FROM cursor_rollups WHERE session_id = ?1) AS n",
  )
    .bind(id)
    .first<{ n: number }>())!.n;

describe("cursor retention (daily cron)", () => {
  it("the scheduled handler removes sessions created before CURSOR_RETENTION_DAYS and keeps the others", async () => {
    expect(settings(env).cursorRetentionDays).toBe(30);
    const now = Date.now();
    const old = await seed(now - 31 * DAY);
    const fresh = await seed(now - 29 * DAY);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    expect(await rows(old)).toBe(0);
    expect(await rows(fresh)).toBe(2);
  });

  it("works in bounded runs and reports when more is left", async () => {
    const now = Date.now();
    const ids = [await seed(now - 50 * DAY), await seed(now - 49 * DAY), await seed(now - 48 * DAY)];
    const first = await expireCursorSessions(env, new Date(now), { retentionDays: 30, maxSessions: 2 });
    expect(first).toMatchObject({ sessions: 2, failed: 0, more: true });
    expect(await rows(ids[0]!)).toBe(0);
    expect(await rows(ids[2]!)).toBe(2);
    const second = await expireCursorSessions(env, new Date(now), { retentionDays: 30, maxSessions: 2 });
    expect(second).toMatchObject({ sessions: 1, more: false });
    expect(await rows(ids[2]!)).toBe(0);
    expect(second.cutoff).toBe(new Date(now - 30 * DAY).toISOString());
  });
});
