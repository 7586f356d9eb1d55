import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { settings } from "../../src/lib/settings";
import { BUDGET_WINDOW_MS, budgetedOutboxInsert, isBudgeted } from "../../src/mail/budget";
import { MAIL_KINDS, type MailKind, mailStatements } from "../../src/mail/enqueue";
import { api, createUser } from "../helpers";
import { TASK_MESSAGE } from "./stub";

type Row = { status: string; suppressed_reason: string | null; actor_id: string | null };

async function outboxTo(email: string): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    "SELECT status, suppressed_reason, actor_id FROM outbox WHERE recipient_email = ? ORDER BY created_at",
  )
    .bind(email)
    .all<Row>();
  return results;
}

const sentOrPending = (rows: Row[]) => rows.filter((row) => row.status !== "suppressed");
const reasons = (rows: Row[]) =>
  rows.reduce<Record<string, number>>((acc, row) => {
    const key = row.suppressed_reason ?? "none";
    acc[key] = (acc[key] ?? 0) + 1;
    return acc;
  }, {});

/** Writes mails to `email` through the real enqueue path (mailStatements + one batch), with the given clock. */
async function mailAt(email: string, count: number, now: number, actorId: string | null = null) {
  const db = getDb(env.DB);
  for (let i = 0; i < count; i++) {
    const prepared = mailStatements(db, env, [{ email }], TASK_MESSAGE(`t${i}`), undefined, now + i, { actorId });
    const [first, ...rest] = prepared.statements;
    await db.batch([first!, ...rest]);
  }
}

describe("mail budgets: kinds", () => {
  it("budgets the notice kinds only; verification and reset mail have their own limit", () => {
    // Typed as kinds, so a name that is no mail kind (which isBudgeted would call unbudgeted too) does not compile.
    const budgeted: MailKind[] = ["task.expired", "task.expiring", "product.changed"];
    const own: MailKind[] = ["account.verify-email", "account.password-reset"];
    for (const kind of budgeted) expect(isBudgeted(kind), kind).toBe(true);
    for (const kind of own) expect(isBudgeted(kind), kind).toBe(false);
    expect([...budgeted, ...own].sort()).toEqual([...MAIL_KINDS].sort());
  });
});

describe("the mail relay attack: 100 past-expiry tasks by one user", () => {
  it("queues at most the recipient budget; the rest is suppressed with its reason; every notification is there", async () => {
    const user = await createUser("member");
    const past = new Date(Date.now() - 60_000).toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await api("/tasks", {
        method: "POST",
        token: user.token,
        json: { title: `Task expired: click here ${i}`, expires_at: past },
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const rows = await outboxTo(user.email);
    expect(rows).toHaveLength(100);
    expect(sentOrPending(rows)).toHaveLength(settings(env).mailMaxPerRecipientHour);
    expect(reasons(rows)).toEqual({ none: 20, recipient_budget: 80 });
    // The actor is recorded on every row.
    expect(new Set(rows.map((row) => row.actor_id))).toEqual(new Set([user.id]));
    // The in-app notice is never suppressed.
    const notices = await env.DB.prepare(
      "SELECT count(*) AS n FROM notifications WHERE user_id = ? AND kind = 'task.expired'",
    )
      .bind(user.id)
      .first<{ n: number }>();
    expect(notices?.n).toBe(100);
    // Admins see them in the outbox, filtered by status, with the reason.
    const admin = await createUser("admin");
    const page = await api(`/admin/outbox?status=suppressed&limit=100`, { token: admin.token });
    expect(page.status).toBe(200);
    const body = (await page.json()) as {
      items: { recipient_email: string; status: string; suppressed_reason: string; actor_id: string }[];
    };
    const mine = body.items.filter((item) => item.recipient_email === user.email);
    expect(mine).toHaveLength(80);
    expect(mine[0]).toMatchObject({ status: "suppressed", suppressed_reason: "recipient_budget", actor_id: user.id });
  }, 60_000);

  it("cannot be overshot by racing writers: 40 concurrent batches to one address leave exactly the budget", async () => {
    const email = `race-${crypto.randomUUID()}@example.com`;
    const db = getDb(env.DB);
    const now = Date.now();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const prepared = mailStatements(db, env, [{ email }], TASK_MESSAGE(`r${i}`), undefined, now);
        await db.batch([prepared.statements[0]!]);
      }),
    );
    const rows = await outboxTo(email);
    expect(rows).toHaveLength(40);
    expect(sentOrPending(rows)).toHaveLength(20);
    expect(reasons(rows)).toEqual({ none: 20, recipient_budget: 20 });
  });

  it("counts an address case-insensitively and only over the last hour", async () => {
    const local = `window-${crypto.randomUUID()}`;
    const base = Date.now() + 10 * BUDGET_WINDOW_MS;
    await mailAt(`${local}@example.com`, 12, base);
    await mailAt(`${local.toUpperCase()}@EXAMPLE.COM`, 12, base + 100);
    const first = [
      ...(await outboxTo(`${local}@example.com`)),
      ...(await outboxTo(`${local.toUpperCase()}@EXAMPLE.COM`)),
    ];
    expect(sentOrPending(first)).toHaveLength(20);
    // An hour after the first mails, the budget has room again.
    await mailAt(`${local}@example.com`, 5, base + BUDGET_WINDOW_MS + 1000);
    const later = (await outboxTo(`${local}@example.com`)).slice(-5);
    expect(later.map((row) => row.status)).toEqual(["queued", "queued", "queued", "queued", "queued"]);
  });
});

describe("the actor budget", () => {
  it("suppresses mail one admin's bulk write causes beyond 50, across 60 different recipients", async () => {
    const admin = await createUser("admin");
    const members = await Promise.all(Array.from({ length: 60 }, () => createUser("member")));
    const now = Date.now();
    const db = env.DB;
    const taskIds = members.map(() => crypto.randomUUID());
    await db.batch(
      members.map((member, i) =>
        db
          .prepare(
            "INSERT INTO tasks (id, title, description, status, created_by, created_at, updated_at) VALUES (?, ?, '', 'todo', ?, ?, ?)",
          )
          .bind(taskIds[i], `actor budget ${i}`, member.id, now, now),
      ),
    );
    const past = new Date(now - 60_000).toISOString();
    const res = await api("/tasks", {
      method: "PUT",
      token: admin.token,
      json: { tasks: taskIds.map((id) => ({ id, expires_at: past })) },
    });
    expect(res.status).toBe(200);
    const { results } = await db
      .prepare(
        `SELECT status, suppressed_reason, actor_id FROM outbox WHERE entity_id IN (${taskIds.map(() => "?").join(",")})`,
      )
      .bind(...taskIds)
      .all<Row>();
    expect(results).toHaveLength(60);
    expect(reasons(results)).toEqual({ none: settings(env).mailMaxPerActorHour, actor_budget: 10 });
    expect(new Set(results.map((row) => row.actor_id))).toEqual(new Set([admin.id]));
    // Every member still got the in-app notice.
    const notices = await db
      .prepare(`SELECT count(*) AS n FROM notifications WHERE entity_id IN (${taskIds.map(() => "?").join(",")})`)
      .bind(...taskIds)
      .first<{ n: number }>();
    expect(notices?.n).toBe(60);
  }, 60_000);

  it("does not count system mail (no actor) against anyone", async () => {
    const email = `system-${crypto.randomUUID()}@example.com`;
    await mailAt(email, 3, Date.now(), null);
    const rows = await outboxTo(email);
    expect(rows.map((row) => [row.status, row.actor_id])).toEqual([
      ["queued", null],
      ["queued", null],
      ["queued", null],
    ]);
  });
});

describe("the budget query", () => {
  it("counts from the partial indexes, never by scanning the outbox", async () => {
    const db = getDb(env.DB);
    const insert = budgetedOutboxInsert(
      db,
      env,
      {
        id: crypto.randomUUID(),
        recipientEmail: "plan@example.com",
        subject: "s",
        textBody: "t",
        htmlBody: "h",
        kind: "task.expired",
        actorId: "someone",
        createdAt: Date.now(),
        updatedAt: Date.now(),
      },
      Date.now(),
    );
    const { sql, params } = insert.toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join("\n");
    expect(plan).toMatch(/SEARCH outbox USING (COVERING )?INDEX outbox_budget_recipient_idx/);
    expect(plan).toMatch(/SEARCH outbox USING (COVERING )?INDEX outbox_budget_actor_idx/);
    expect(plan).not.toMatch(/SCAN outbox/);
  });
});
