import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY } from "../../src/cron";
import { deleteInPages } from "../../src/cron/prune-processed";
import worker from "../../src/index";
import { OUTBOX_RETENTION_DAYS } from "../../src/mail/retention";

const DAY = 86_400_000;

function insertMail(id: string, createdAt: number, sealedToken: string | null = null) {
  return env.DB.prepare(
    "INSERT INTO outbox (id, recipient_email, subject, text_body, html_body, kind, status, attempts, sealed_token, created_at, updated_at) VALUES (?1, 'kept@example.com', 's', 't', 'h', 'account.verify-email', 'queued', 0, ?2, ?3, ?3)",
  ).bind(id, sealedToken, createdAt);
}

describe("outbox retention", () => {
  it(`deletes mail older than ${OUTBOX_RETENTION_DAYS} days and erases sealed tokens older than a day`, async () => {
    const now = Date.now();
    const [old, recent, staleSealed, freshSealed] = Array.from({ length: 4 }, () => crypto.randomUUID());
    await env.DB.batch([
      insertMail(old!, now - (OUTBOX_RETENTION_DAYS + 1) * DAY),
      insertMail(recent!, now - (OUTBOX_RETENTION_DAYS - 1) * DAY),
      insertMail(staleSealed!, now - 2 * DAY, "sealed-a"),
      insertMail(freshSealed!, now - 60_000, "sealed-b"),
    ]);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    const rows = await env.DB.prepare("SELECT id, sealed_token FROM outbox WHERE id IN (?, ?, ?, ?)")
      .bind(old, recent, staleSealed, freshSealed)
      .all<{ id: string; sealed_token: string | null }>();
    const byId = Object.fromEntries(rows.results.map((r) => [r.id, r.sealed_token]));
    expect(Object.keys(byId).sort()).toEqual([recent, staleSealed, freshSealed].sort());
    expect(byId[staleSealed!]).toBeNull();
    expect(byId[freshSealed!]).toBe("sealed-b");
  });

  it("deletes a page at a time and stops after its pages; the next run goes on", async () => {
    const now = Date.now();
    const ids = Array.from({ length: 25 }, () => crypto.randomUUID());
    await env.DB.batch(ids.map((id, i) => insertMail(id, now - 100 * DAY - i)));
    const cutoff = now - 99 * DAY;
    const page = { pageRows: 10, maxPages: 2 };
    expect(await deleteInPages(env.DB, "outbox", "id", "created_at", cutoff, page)).toEqual({
      deleted: 20,
      done: false,
    });
    expect(await deleteInPages(env.DB, "outbox", "id", "created_at", cutoff, page)).toEqual({ deleted: 5, done: true });
  });
});
