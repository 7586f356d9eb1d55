import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY } from "../../src/cron";
import { pruneCursorEvents, retentionDays } from "../../src/cron/retention";
import worker from "../../src/index";

const DAY = 86_400_000;

async function seed(id: string, ts: number[]) {
  const statements = ts.map((t, seq) =>
    env.DB.prepare("INSERT INTO cursor_events (session_id, seq, x, y, t) VALUES (?, ?, 1, 1, ?)").bind(id, seq, t),
  );
  statements.push(
    env.DB.prepare(
      `INSERT INTO cursor_seconds (session_id, second, distance, peak_speed, event_count, start_x, start_y, end_x, end_y, last_seq)
       VALUES (?, ?, 5, 5, 1, 0, 0, 3, 4, 0)`,
    ).bind(id, Math.floor(ts[0]! / 1000)),
  );
  await env.DB.batch(statements);
}

const countEvents = async (id: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM cursor_events WHERE session_id = ?")
    .bind(id)
    .first<{ n: number }>())!.n;
const countSeconds = async (id: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM cursor_seconds WHERE session_id = ?")
    .bind(id)
    .first<{ n: number }>())!.n;

describe("cursor retention (daily cron)", () => {
  it("the scheduled handler deletes raw events past CURSOR_RETENTION_DAYS and keeps the per-second rows", async () => {
    expect(retentionDays(env)).toBe(30);
    const now = Date.now();
    const old = crypto.randomUUID();
    const fresh = crypto.randomUUID();
    await seed(old, [now - 31 * DAY, now - 31 * DAY + 5, now - 30 * DAY - 1000]);
    await seed(fresh, [now - 29 * DAY, now - DAY, now]);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    expect(await countEvents(old)).toBe(0);
    expect(await countEvents(fresh)).toBe(3);
    expect(await countSeconds(old)).toBe(1);
  });

  it("works in bounded chunks and reports when more is left", async () => {
    const now = Date.now();
    const id = crypto.randomUUID();
    await seed(
      id,
      Array.from({ length: 35 }, (_, i) => now - 40 * DAY + i),
    );
    const first = await pruneCursorEvents(env.DB, new Date(now), { retentionDays: 30, chunkRows: 10, maxChunks: 2 });
    expect(first).toMatchObject({ deleted: 20, chunks: 2, done: false });
    expect(await countEvents(id)).toBe(15);
    const second = await pruneCursorEvents(env.DB, new Date(now), { retentionDays: 30, chunkRows: 10, maxChunks: 5 });
    expect(second).toMatchObject({ deleted: 15, chunks: 2, done: true });
    expect(await countEvents(id)).toBe(0);
    expect(second.cutoff).toBe(new Date(now - 30 * DAY).toISOString());
  });

  it("falls back to 30 days for a missing or nonsensical setting", () => {
    expect(retentionDays({ ...env, CURSOR_RETENTION_DAYS: "" })).toBe(30);
    expect(retentionDays({ ...env, CURSOR_RETENTION_DAYS: "0" })).toBe(30);
    expect(retentionDays({ ...env, CURSOR_RETENTION_DAYS: "7" })).toBe(7);
  });
});
