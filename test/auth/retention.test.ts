import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY } from "../../src/cron";
import worker from "../../src/index";
import { createUser } from "../helpers";

const DAY = 86_400_000;

describe("the daily job deletes expired sign-ins and mailed tokens", () => {
  it("expired refresh and account tokens go, live ones stay", async () => {
    const user = await createUser("member");
    const now = Date.now();
    const insertRefresh = (id: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at) VALUES (?1, ?2, ?1, ?3, ?4, ?5)",
      ).bind(id, user.id, crypto.randomUUID(), now - 40 * DAY, expiresAt);
    const insertMailed = (id: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO account_tokens (id, user_id, purpose, email, token_hash, created_at, expires_at) VALUES (?1, ?2, 'verify_email', ?3, ?4, ?5, ?6)",
      ).bind(id, user.id, user.email, crypto.randomUUID(), now - 2 * DAY, expiresAt);
    const [oldRefresh, liveRefresh, oldMailed, liveMailed] = Array.from({ length: 4 }, () => crypto.randomUUID());
    await env.DB.batch([
      insertRefresh(oldRefresh!, now - DAY),
      insertRefresh(liveRefresh!, now + DAY),
      insertMailed(oldMailed!, now - 1),
      insertMailed(liveMailed!, now + DAY),
    ]);
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: now }), env);
    const ids = async (table: string) =>
      (
        await env.DB.prepare(`SELECT id FROM ${table} WHERE user_id = ?`).bind(user.id).all<{ id: string }>()
      ).results.map((r) => r.id);
    expect(await ids("refresh_tokens")).toEqual([liveRefresh]);
    expect(await ids("account_tokens")).toEqual([liveMailed]);
  });
});
