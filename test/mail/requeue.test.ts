import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EVERY_MINUTE } from "../../src/cron";
import worker from "../../src/index";
import { REQUEUE_LIMIT, requeueStaleMail, STALE_QUEUED_MS } from "../../src/mail/requeue";
import { insertOutbox, outboxRow } from "./stub";

afterEach(() => vi.restoreAllMocks());

async function age(id: string, ms: number, status = "queued", attempts = 0) {
  await env.DB.prepare("UPDATE outbox SET updated_at = ?, status = ?, attempts = ? WHERE id = ?")
    .bind(Date.now() - ms, status, attempts, id)
    .run();
}

describe("requeueStaleMail", () => {
  it("re-sends only rows still queued, never tried and untouched for the stale period, once", async () => {
    const [stale, fresh, tried, sent] = await insertOutbox([
      { email: "stale@example.com" },
      { email: "fresh@example.com" },
      { email: "tried@example.com" },
      { email: "sent@example.com" },
    ]);
    await age(stale!, STALE_QUEUED_MS + 60_000);
    await age(fresh!, STALE_QUEUED_MS - 60_000);
    await age(tried!, STALE_QUEUED_MS + 60_000, "retrying", 1);
    await age(sent!, STALE_QUEUED_MS + 60_000, "sent", 1);
    const sendBatch = vi.fn(async () => ({}) as QueueSendBatchResponse);
    const fake = { ...env, MAIL_QUEUE: { sendBatch } } as unknown as Env;

    const now = new Date();
    expect(await requeueStaleMail(fake, now)).toEqual({ requeued: 1 });
    expect(sendBatch).toHaveBeenCalledWith([{ body: { id: stale }, contentType: "json" }]);
    expect((await outboxRow(stale!)).updatedAt).toBe(now.getTime());
    // Touched: the next minute does not send it again.
    expect(await requeueStaleMail(fake, new Date(now.getTime() + 1000))).toEqual({ requeued: 0 });
    expect(REQUEUE_LIMIT).toBeGreaterThan(0);
  });

  it("runs from the every-minute cron, and the Worker's consumer then handles the mail", async () => {
    for (const level of ["log", "warn"] as const) vi.spyOn(console, level).mockImplementation(() => {});
    const [id] = await insertOutbox([{ email: "lost-message@example.com" }]);
    await age(id!, STALE_QUEUED_MS + 1000);
    const controller = createScheduledController({ cron: EVERY_MINUTE, scheduledTime: new Date() });
    await worker.scheduled(controller, env);
    await vi.waitFor(async () => expect((await outboxRow(id!)).status).toBe("recorded"), {
      timeout: 10_000,
      interval: 100,
    });
  });
});
