import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PRUNE_AFTER_MS, PRUNE_PAGE_ROWS } from "../../src/auth/rate-limit";
import { DAILY, together } from "../../src/cron";
import { deleteInPages, KEY_RETENTION_DAYS } from "../../src/cron/prune-processed";
import worker from "../../src/index";
import { api, createUser } from "../helpers";

const DAY = 86_400_000;

describe("daily housekeeping", () => {
  it("prunes idempotency keys older than the retention and keeps recent ones", async () => {
    const now = Date.now();
    const old = Array.from({ length: 30 }, () => `old-${crypto.randomUUID()}`);
    const recent = Array.from({ length: 5 }, () => `recent-${crypto.randomUUID()}`);
    await env.DB.batch([
      ...old.map((id, i) =>
        env.DB.prepare("INSERT INTO processed_messages (id, queue, processed_at) VALUES (?, 'test', ?)").bind(
          id,
          now - (KEY_RETENTION_DAYS + 1) * DAY - i,
        ),
      ),
      ...recent.map((id) =>
        env.DB.prepare("INSERT INTO processed_messages (id, queue, processed_at) VALUES (?, 'test', ?)").bind(
          id,
          now - (KEY_RETENTION_DAYS - 1) * DAY,
        ),
      ),
    ]);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    const { results } = await env.DB.prepare("SELECT id FROM processed_messages WHERE queue = 'test'").all<{
      id: string;
    }>();
    expect(results.map((r) => r.id).sort()).toEqual([...recent].sort());
  });

  it("prunes notifications past NOTIFICATION_RETENTION_DAYS, read or not, and keeps younger ones", async () => {
    const now = Date.now();
    const user = await createUser("member");
    const keep = Number(env.NOTIFICATION_RETENTION_DAYS);
    const insert = (age: number, read: boolean) =>
      env.DB.prepare(
        "INSERT INTO notifications (id, user_id, kind, title, body, read_at, created_at) VALUES (?, ?, 'task.expired', 't', 'b', ?, ?)",
      ).bind(crypto.randomUUID(), user.id, read ? now : null, now - age);
    await env.DB.batch([
      ...Array.from({ length: 40 }, (_, i) => insert((keep + 1) * DAY + i, i % 2 === 0)),
      insert((keep - 1) * DAY, false),
      insert(DAY, true),
    ]);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM notifications WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(2);
  });

  it("deletes in bounded pages, oldest first, and says when a backlog is left for the next run", async () => {
    const tag = `page-${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.batch(
      Array.from({ length: 25 }, (_, i) =>
        env.DB.prepare("INSERT INTO processed_messages (id, queue, processed_at) VALUES (?, ?, ?)").bind(
          `${tag}-${i}`,
          tag,
          i,
        ),
      ),
    );
    const remaining = async () =>
      (await env.DB.prepare("SELECT min(processed_at) AS oldest, count(*) AS n FROM processed_messages WHERE queue = ?")
        .bind(tag)
        .first<{ oldest: number; n: number }>())!;
    const first = await deleteInPages(env.DB, "processed_messages", "id", "processed_at", 25, {
      pageRows: 4,
      maxPages: 3,
    });
    expect(first).toEqual({ deleted: 12, done: false });
    expect(await remaining()).toEqual({ oldest: 12, n: 13 });
    expect(await deleteInPages(env.DB, "processed_messages", "id", "processed_at", 25, { pageRows: 4 })).toEqual({
      deleted: 13,
      done: true,
    });
    expect((await remaining()).n).toBe(0);
  });

  it("drops idle rate-limit rows a page per counted attempt, and the rest daily; live counters stay", async () => {
    const now = Date.now();
    const tag = `idle-${crypto.randomUUID().slice(0, 8)}`;
    const stale = PRUNE_PAGE_ROWS * 3;
    const rows = [
      ...Array.from({ length: stale }, (_, i) => [`${tag}:old:${i}`, now - PRUNE_AFTER_MS - 1000 - i] as const),
      ...Array.from({ length: 5 }, (_, i) => [`${tag}:live:${i}`, now - PRUNE_AFTER_MS + 60_000] as const),
    ];
    for (let i = 0; i < rows.length; i += 30) {
      const chunk = rows.slice(i, i + 30);
      await env.DB.prepare(
        `INSERT INTO rate_limits (key, window_start, count) VALUES ${chunk.map(() => "(?, ?, 1)").join(", ")}`,
      )
        .bind(...chunk.flat())
        .run();
    }
    const left = async (kind: string) =>
      (await env.DB.prepare("SELECT count(*) AS n FROM rate_limits WHERE key LIKE ?")
        .bind(`${tag}:${kind}:%`)
        .first<{ n: number }>())!.n;
    // One counted attempt (a sign-in) drops one page of idle rows, no more.
    const before = await left("old");
    await api("/auth/login", {
      method: "POST",
      json: { email: `nobody-${tag}@example.com`, password: "x" },
      headers: { "cf-connecting-ip": "198.18.77.1" },
    });
    expect(before - (await left("old"))).toBe(PRUNE_PAGE_ROWS);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    expect(await left("old")).toBe(0);
    expect(await left("live")).toBe(5);
  });

  it("runs jobs side by side: a failing job does not stop the others, and its error is thrown after all settle", async () => {
    const finished = vi.fn(async () => "ok");
    const job = together({
      broken: async () => {
        throw new Error("boom");
      },
      fine: finished,
    });
    await expect(job(env, new Date())).rejects.toThrow("boom");
    expect(finished).toHaveBeenCalledOnce();
    await expect(together({ a: async () => 1, b: async () => 2 })(env, new Date())).resolves.toEqual({ a: 1, b: 2 });
  });
});
