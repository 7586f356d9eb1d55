import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1Cost } from "../../d1-cost";
import { api, apiWith, createUser, expectProblem, type TestUser } from "../../helpers";

/**
 * What one signed-in account can store through the task wall: at most TASKS_MAX_PER_USER tasks, and at most
 * NOTICES_MAX_PER_USER_DAY expiry notices (notification + outbox row) in any 24 hours, however fast it writes.
 */

const count = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;
const tasksOf = (user: TestUser) => count("SELECT count(*) AS n FROM tasks WHERE created_by = ?", user.id);
const noticesOf = (user: TestUser) => count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", user.id);
const mailsOf = (user: TestUser) => count("SELECT count(*) AS n FROM outbox WHERE recipient_email = ?", user.email);
const past = () => new Date(Date.now() - 60_000).toISOString();

/** `n` tasks for `user` straight into D1, in one statement (a recursive CTE), as if made over months. */
async function fill(user: TestUser, n: number) {
  await env.DB.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
     INSERT INTO tasks (id, title, status, created_by, created_at, updated_at)
     SELECT lower(hex(randomblob(16))), 'old task ' || i, 'done', ?, 0, 0 FROM k`,
  )
    .bind(n, user.id)
    .run();
}

describe("live tasks per account", { timeout: 60_000 }, () => {
  it("a flood of parallel creates stops at the cap with a 409, writing nothing past it", async () => {
    const cap = { TASKS_MAX_PER_USER: "5" };
    const user = await createUser("member");
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        apiWith(cap, "/tasks", {
          method: "POST",
          token: user.token,
          json: { title: `flood ${i}`, expires_at: past() },
        }),
      ),
    );
    expect(answers.filter((res) => res.status === 201)).toHaveLength(5);
    const refused = answers.filter((res) => res.status !== 201);
    expect(refused).toHaveLength(15);
    const body = await expectProblem(refused[0]!, 409);
    expect(body.detail).toMatch(/You have 5 tasks.*delete some/);
    // Still the two round trips of a create: the cap is counted inside the write.
    expect(d1Cost(refused[0]!).roundTrips).toBe(2);
    expect(await tasksOf(user)).toBe(5);
    // A refused create with a past expiry notices nothing: the notice is guarded by the task's row.
    expect(await noticesOf(user)).toBe(5);
    expect(await mailsOf(user)).toBe(5);

    // Another account is not affected; a delete makes room again.
    const other = await createUser("member");
    expect((await apiWith(cap, "/tasks", { method: "POST", token: other.token, json: { title: "x" } })).status).toBe(
      201,
    );
    const { items } = (await (await api(`/tasks?search=${user.username}&limit=1`, { token: user.token })).json()) as {
      items: { id: string }[];
    };
    expect((await api(`/tasks/${items[0]!.id}`, { method: "DELETE", token: user.token })).status).toBe(204);
    expect((await apiWith(cap, "/tasks", { method: "POST", token: user.token, json: { title: "y" } })).status).toBe(
      201,
    );
    await expectProblem(await apiWith(cap, "/tasks", { method: "POST", token: user.token, json: { title: "z" } }), 409);
    // The counters the list totals read are fixed rows, however many tasks come and go.
    expect(await count("SELECT count(*) AS n FROM counters")).toBe(2);
  });

  it(`the default cap (${env.TASKS_MAX_PER_USER}) holds for an account that already has that many less one`, async () => {
    const max = Number(env.TASKS_MAX_PER_USER);
    const user = await createUser("member");
    await fill(user, max - 1);
    expect((await api("/tasks", { method: "POST", token: user.token, json: { title: "the last one" } })).status).toBe(
      201,
    );
    await expectProblem(await api("/tasks", { method: "POST", token: user.token, json: { title: "one more" } }), 409);
    expect(await tasksOf(user)).toBe(max);
  });
});

describe("expiry notices per user and day", { timeout: 60_000 }, () => {
  it("moving one task's expiry to the past again and again stops noticing at the budget; writes still succeed", async () => {
    const budget = { NOTICES_MAX_PER_USER_DAY: "4" };
    const user = await createUser("member");
    const created = await apiWith(budget, "/tasks", { method: "POST", token: user.token, json: { title: "moved" } });
    const { id } = (await created.json()) as { id: string };
    for (let i = 1; i <= 10; i++) {
      const expires = new Date(Date.now() - i * 60_000).toISOString();
      const res = await apiWith(budget, `/tasks/${id}`, {
        method: "PATCH",
        token: user.token,
        json: { expires_at: expires },
      });
      expect(res.status).toBe(200);
    }
    expect(await noticesOf(user)).toBe(4);
    expect(await mailsOf(user)).toBe(4);
    // Creates and bulk updates meet the same budget.
    const create = await apiWith(budget, "/tasks", {
      method: "POST",
      token: user.token,
      json: { title: "created past", expires_at: past() },
    });
    expect(create.status).toBe(201);
    const bulk = await apiWith(budget, "/tasks", {
      method: "PUT",
      token: user.token,
      json: { tasks: [{ id, expires_at: new Date(Date.now() - 3_600_000).toISOString() }] },
    });
    expect(bulk.status).toBe(200);
    expect(await noticesOf(user)).toBe(4);
    // Passed over, the task is not left waiting (no scan retries it every minute).
    const waiting = await count(
      "SELECT count(*) AS n FROM tasks WHERE created_by = ? AND status <> 'done' AND expires_at IS NOT NULL AND notified_for IS NOT expires_at",
      user.id,
    );
    expect(waiting).toBe(0);
    // Another user's notices are their own.
    const other = await createUser("member");
    await apiWith(budget, "/tasks", {
      method: "POST",
      token: other.token,
      json: { title: "mine", expires_at: past() },
    });
    expect(await noticesOf(other)).toBe(1);
  });
});
