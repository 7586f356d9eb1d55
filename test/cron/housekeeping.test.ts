import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { DAILY, together } from "../../src/cron";
import { KEY_RETENTION_DAYS } from "../../src/cron/prune-processed";
import worker from "../../src/index";

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
