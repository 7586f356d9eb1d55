import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dueQuery, scanExpiringTasks } from "../../src/cron/expire-tasks";
import { getDb } from "../../src/db/client";
import { tasks } from "../../src/db/schema";
import worker from "../../src/index";
import { api, createUser, type TestUser } from "../helpers";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Each test works around its own future instant, later than every earlier test's, so scans never interfere. */
let epoch = Date.now() + 365 * DAY;
const nextBase = () => {
  epoch += 30 * DAY;
  return epoch;
};

type Notice = { kind: string; user_id: string; title: string };

async function noticesFor(taskId: string): Promise<Notice[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, user_id, title FROM notifications WHERE entity_type = 'task' AND entity_id = ? ORDER BY created_at",
  )
    .bind(taskId)
    .all<Notice>();
  return results;
}

async function mailsFor(taskId: string): Promise<{ kind: string; recipient_email: string; subject: string }[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, recipient_email, subject FROM outbox WHERE entity_type = 'task' AND entity_id = ? ORDER BY created_at",
  )
    .bind(taskId)
    .all<{ kind: string; recipient_email: string; subject: string }>();
  return results;
}

async function create(user: TestUser, json: Record<string, unknown>): Promise<{ id: string }> {
  const res = await api("/tasks", { method: "POST", token: user.token, json });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

async function patch(user: TestUser, id: string, json: Record<string, unknown>) {
  const res = await api(`/tasks/${id}`, { method: "PATCH", token: user.token, json });
  expect(res.status).toBe(200);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Inserts many tasks straight into D1 (7 parameters a row, 14 rows a statement, 50 statements a batch). */
async function insertTasks(userId: string, expiresAt: (i: number) => number, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const statements: D1PreparedStatement[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i += 14) {
    const rows = ids.slice(i, i + 14);
    statements.push(
      env.DB.prepare(
        `INSERT INTO tasks (id, title, status, expires_at, created_by, created_at, updated_at) VALUES ${rows
          .map(() => "(?, ?, 'todo', ?, ?, ?, ?)")
          .join(", ")}`,
      ).bind(...rows.flatMap((id, j) => [id, `bulk task ${i + j}`, expiresAt(i + j), userId, now, now])),
    );
  }
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
  return ids;
}

async function noticeCounts(ids: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 90) {
    const chunk = ids.slice(i, i + 90);
    const { results } = await env.DB.prepare(
      `SELECT entity_id AS id, count(*) AS n FROM notifications WHERE entity_type = 'task' AND entity_id IN (${chunk
        .map(() => "?")
        .join(",")}) GROUP BY entity_id`,
    )
      .bind(...chunk)
      .all<{ id: string; n: number }>();
    for (const row of results) counts.set(row.id, row.n);
  }
  return counts;
}

describe("the scan's due query", () => {
  it("a task is due only when not done, with an expiry inside the window, not yet noticed for it", async () => {
    // The scan's own query over rows in D1, one row per case, at a fixed clock far in the future so no other test's
    // task is inside the horizon.
    const now = Date.UTC(2300, 0, 1);
    const window = 15 * MINUTE;
    const creator = await createUser("member");
    const cases = {
      noExpiry: { status: "todo", expiresAt: null, notifiedFor: null, due: false },
      aheadInside: { status: "todo", expiresAt: now + 7.5 * MINUTE, notifiedFor: null, due: true },
      atWindowEdge: { status: "todo", expiresAt: now + 15 * MINUTE, notifiedFor: null, due: true },
      pastWindowEdge: { status: "todo", expiresAt: now + 15 * MINUTE + 1, notifiedFor: null, due: false },
      expiredLongAgo: { status: "in_progress", expiresAt: now - DAY, notifiedFor: null, due: true },
      done: { status: "done", expiresAt: now, notifiedFor: null, due: false },
      noticed: { status: "todo", expiresAt: now + 1, notifiedFor: now + 1, due: false },
      noticedForAnotherTime: { status: "todo", expiresAt: now + 2, notifiedFor: now - 1, due: true },
    } as const;
    const ids = new Map<string, string>();
    const db = getDb(env.DB);
    for (const [name, c] of Object.entries(cases)) {
      const id = crypto.randomUUID();
      ids.set(id, name);
      await db.insert(tasks).values({
        id,
        title: name,
        status: c.status,
        expiresAt: c.expiresAt,
        notifiedFor: c.notifiedFor,
        createdBy: creator.id,
        createdAt: now,
        updatedAt: now,
      });
    }
    const due = (await dueQuery(db, now + window, 10_000)).filter((r) => ids.has(r.id)).map((r) => ids.get(r.id));
    const expected = Object.entries(cases)
      .filter(([, c]) => c.due)
      .map(([name]) => name);
    expect(due.sort()).toEqual(expected.sort());
  });
});

describe("scanExpiringTasks with an injected clock", () => {
  it("never notices a task without an expiry", async () => {
    const user = await createUser();
    const task = await create(user, { title: "Someday" });
    await scanExpiringTasks(env, nextBase());
    await scanExpiringTasks(env, nextBase() + 100 * 365 * DAY);
    expect(await noticesFor(task.id)).toEqual([]);
  });

  it("notices a task 7.5 minutes ahead once, in-app and by mail to its creator, and not again", async () => {
    const user = await createUser();
    const base = nextBase();
    const task = await create(user, { title: "Inventory", expires_at: iso(base) });
    const first = await scanExpiringTasks(env, base - 7.5 * MINUTE);
    expect(first.noticed).toBeGreaterThanOrEqual(1);
    expect(await noticesFor(task.id)).toEqual([
      { kind: "task.expiring", user_id: user.id, title: expect.stringContaining("Inventory") },
    ]);
    const mails = await mailsFor(task.id);
    expect(mails).toEqual([
      { kind: "task.expiring", recipient_email: user.email, subject: expect.stringContaining("Inventory") },
    ]);
    // Again the same minute, the next minute, and after the expiry passed: still one notice.
    await scanExpiringTasks(env, base - 7.5 * MINUTE);
    await scanExpiringTasks(env, base - 6.5 * MINUTE);
    await scanExpiringTasks(env, base + MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(1);
    expect(await mailsFor(task.id)).toHaveLength(1);
  });

  it("does not notice a task 30 minutes ahead yet, then does once it is inside the window", async () => {
    const user = await createUser();
    const base = nextBase();
    const task = await create(user, { title: "Later", expires_at: iso(base) });
    await scanExpiringTasks(env, base - 30 * MINUTE);
    await scanExpiringTasks(env, base - 15 * MINUTE - 1);
    expect(await noticesFor(task.id)).toEqual([]);
    await scanExpiringTasks(env, base - 15 * MINUTE);
    expect((await noticesFor(task.id)).map((n) => n.kind)).toEqual(["task.expiring"]);
  });

  it("notices a task created already expired at once ('expired'), and the scan adds nothing", async () => {
    const user = await createUser();
    const task = await create(user, { title: "Too late", expires_at: iso(Date.now() - 5 * MINUTE) });
    expect((await noticesFor(task.id)).map((n) => n.kind)).toEqual(["task.expired"]);
    expect((await mailsFor(task.id)).map((m) => m.kind)).toEqual(["task.expired"]);
    await scanExpiringTasks(env, Date.now());
    expect(await noticesFor(task.id)).toHaveLength(1);

    // Created done with a past expiry: nothing to notice.
    const done = await create(user, { title: "Done late", status: "done", expires_at: iso(Date.now() - MINUTE) });
    await scanExpiringTasks(env, Date.now());
    expect(await noticesFor(done.id)).toEqual([]);
  });

  it("re-arms when expires_at changes, including back to an expiry already noticed", async () => {
    const user = await createUser();
    const base = nextBase();
    const task = await create(user, { title: "Moving", expires_at: iso(base) });
    await scanExpiringTasks(env, base - 10 * MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(1);

    // Moved an hour later: a second notice when the new time comes near, not before.
    await patch(user, task.id, { expires_at: iso(base + 60 * MINUTE) });
    await scanExpiringTasks(env, base - 5 * MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(1);
    await scanExpiringTasks(env, base + 50 * MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(2);

    // Moved back to the first time: armed again (its old idempotency key is forgotten).
    await patch(user, task.id, { expires_at: iso(base) });
    await scanExpiringTasks(env, base - 10 * MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(3);

    // A title change does not re-arm.
    await patch(user, task.id, { title: "Moving, renamed" });
    await scanExpiringTasks(env, base - 9 * MINUTE);
    expect(await noticesFor(task.id)).toHaveLength(3);

    // Moved into the past: the expired notice is sent by the write itself.
    await patch(user, task.id, { expires_at: iso(Date.now() - MINUTE) });
    // (Sorted: the scans above wrote with their injected, later clock.)
    expect((await noticesFor(task.id)).map((n) => n.kind).sort()).toEqual([
      "task.expired",
      "task.expiring",
      "task.expiring",
      "task.expiring",
    ]);
  });

  it("is cancelled by marking the task done, and by deleting it", async () => {
    const user = await createUser();
    const base = nextBase();
    const done = await create(user, { title: "Finished", expires_at: iso(base) });
    const gone = await create(user, { title: "Dropped", expires_at: iso(base) });
    await patch(user, done.id, { status: "done" });
    expect((await api(`/tasks/${gone.id}`, { method: "DELETE", token: user.token })).status).toBe(204);
    await scanExpiringTasks(env, base - 5 * MINUTE);
    await scanExpiringTasks(env, base + 5 * MINUTE);
    expect(await noticesFor(done.id)).toEqual([]);
    expect(await noticesFor(gone.id)).toEqual([]);
  });

  it("claims a task of a deleted creator without notifying anyone", async () => {
    const user = await createUser();
    const base = nextBase();
    const task = await create(user, { title: "Orphan", expires_at: iso(base) });
    await env.DB.prepare("UPDATE users SET deleted_at = ? WHERE id = ?").bind(Date.now(), user.id).run();
    const result = await scanExpiringTasks(env, base - MINUTE);
    expect(result.skipped).toBeGreaterThanOrEqual(1);
    expect(await noticesFor(task.id)).toEqual([]);
    const row = await env.DB.prepare("SELECT notified_for FROM tasks WHERE id = ?").bind(task.id).first();
    expect(row).toEqual({ notified_for: base });
  });

  it("never notices twice when two scans run at once, over several chunks", async () => {
    const user = await createUser();
    const base = nextBase();
    const ids = await insertTasks(user.id, (i) => base + (i % 10) * 1000, 130);
    const [a, b] = await Promise.all([scanExpiringTasks(env, base), scanExpiringTasks(env, base)]);
    // Both read the same first chunk before either wrote, so the later batch found those tasks armed: lost.
    expect(a.lost + b.lost).toBeGreaterThanOrEqual(1);
    const counts = await noticeCounts(ids);
    expect(counts.size).toBe(130);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // Between them the two scans noticed each task once (plus any leftovers of earlier tests).
    expect(a.noticed + b.noticed).toBeGreaterThanOrEqual(130);
    expect(a.noticed + b.noticed).toBeLessThan(130 + 20);
    // And a third scan finds nothing left of these.
    await scanExpiringTasks(env, base);
    expect([...(await noticeCounts(ids)).values()].every((n) => n === 1)).toBe(true);
  });

  it("stops at maxTasks and says there is more", async () => {
    const user = await createUser();
    const base = nextBase();
    const ids = await insertTasks(user.id, () => base, 12);
    const first = await scanExpiringTasks(env, base, { maxTasks: 5, chunkSize: 4 });
    expect(first.more).toBe(true);
    expect(first.batches).toBeGreaterThanOrEqual(2);
    await scanExpiringTasks(env, base);
    const counts = await noticeCounts(ids);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
  });
});

describe("the cron entry point", () => {
  it("runs the scan for '* * * * *' at the controller's scheduled time", async () => {
    const user = await createUser();
    const base = nextBase();
    const task = await create(user, { title: "Cron", expires_at: iso(base) });
    // The Worker's own `scheduled` handler (a ScheduledController cannot cross into exports.default).
    const tick = (scheduledTime: number) =>
      worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), env);
    await tick(base - 30 * MINUTE);
    expect(await noticesFor(task.id)).toEqual([]);
    await tick(base - 2 * MINUTE);
    expect((await noticesFor(task.id)).map((n) => n.kind)).toEqual(["task.expiring"]);
  });
});

describe("a few thousand due tasks in one run", () => {
  it("notices every one exactly once, in bounded batches", async () => {
    const user = await createUser();
    const base = nextBase();
    const count = 2500;
    const ids = await insertTasks(user.id, (i) => base - (i % 600) * 1000, count);
    // One user's tasks, so their daily notice budget is raised past the count: this is about the scan's batches.
    const roomy = { ...env, NOTICES_MAX_PER_USER_DAY: String(count) } as Env;
    const result = await scanExpiringTasks(roomy, base);
    expect(result.noticed).toBeGreaterThanOrEqual(count);
    expect(result.more).toBe(false);
    expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(count / 40));
    const counts = await noticeCounts(ids);
    expect(counts.size).toBe(count);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const outbox = await env.DB.prepare(
      `SELECT count(*) AS n FROM outbox WHERE kind = 'task.expired' AND recipient_email = ?`,
    )
      .bind(user.email)
      .first<{ n: number }>();
    expect(outbox?.n).toBe(count);
    const again = await scanExpiringTasks(roomy, base);
    expect(again.noticed).toBe(0);
  }, 120_000);
});

describe("the notice budget per user", () => {
  it("a flood of one user's due tasks gets NOTICES_MAX_PER_USER_DAY notices; the rest are armed without one", async () => {
    const budget = Number(env.NOTICES_MAX_PER_USER_DAY);
    const flooder = await createUser();
    const other = await createUser();
    const base = nextBase();
    const ids = await insertTasks(flooder.id, (i) => base - i * 1000, budget + 60);
    const [otherTask] = await insertTasks(other.id, () => base - 500, 1);
    const result = await scanExpiringTasks(env, base);
    expect(result).toMatchObject({ noticed: budget + 1, overBudget: 60, lost: 0, more: false });
    const counts = await noticeCounts(ids);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(budget);
    const mails = async (email: string) =>
      (
        await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE recipient_email = ?")
          .bind(email)
          .first<{ n: number }>()
      )?.n;
    expect(await mails(flooder.email)).toBe(budget);
    // The other user is not affected; nothing is left waiting, so no later scan retries the passed-over tasks.
    expect((await noticeCounts([otherTask!])).get(otherTask!)).toBe(1);
    expect(await mails(other.email)).toBe(1);
    expect(await scanExpiringTasks(env, base)).toMatchObject({ noticed: 0, overBudget: 0 });
    // A day later the budget is back.
    const later = base + DAY + 1000;
    await insertTasks(flooder.id, () => later - 1000, 3);
    expect(await scanExpiringTasks(env, later)).toMatchObject({ noticed: 3, overBudget: 0 });
  }, 120_000);
});
