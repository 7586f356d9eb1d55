import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { scanExpiringTasks } from "../../../src/cron/expire-tasks";
import { api, createUser, type TestUser } from "../../helpers";

/** The expired/expiring notices of a task, each with the expires_at it was written for (from its payload). */
async function notices(taskId: string): Promise<{ kind: string; expires_at: string }[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, payload FROM notifications WHERE entity_type = 'task' AND entity_id = ? ORDER BY created_at",
  )
    .bind(taskId)
    .all<{ kind: string; payload: string }>();
  return results.map((row) => ({
    kind: row.kind,
    expires_at: (JSON.parse(row.payload) as { task: { expires_at: string } }).task.expires_at,
  }));
}

async function mailCount(taskId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE entity_id = ?")
    .bind(taskId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function createTask(user: TestUser, json: Record<string, unknown>): Promise<string> {
  const res = await api("/tasks", { method: "POST", token: user.token, json });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("one expiry, one notice, however many writes race", () => {
  it("20 parallel PATCHes with the same past expires_at write one notice and one mail, round after round", async () => {
    const user = await createUser("member");
    const id = await createTask(user, { title: "raced", expires_at: iso(Date.now() + 86_400_000) });
    for (let round = 1; round <= 5; round++) {
      const past = iso(Date.now() - round * 60_000);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          api(`/tasks/${id}`, { method: "PATCH", token: user.token, json: { expires_at: past } }),
        ),
      );
      expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
      const written = await notices(id);
      expect(written).toHaveLength(round);
      expect(written.filter((notice) => notice.expires_at === past)).toEqual([
        { kind: "task.expired", expires_at: past },
      ]);
      expect(await mailCount(id)).toBe(round);
    }
  });

  it("the same holds for PUT /tasks/{id}", async () => {
    const user = await createUser("member");
    const id = await createTask(user, { title: "replaced" });
    const past = iso(Date.now() - 60_000);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(`/tasks/${id}`, {
          method: "PUT",
          token: user.token,
          json: { title: "replaced", description: "", status: "todo", expires_at: past },
        }),
      ),
    );
    expect(answers.every((res) => res.status === 200)).toBe(true);
    expect(await notices(id)).toEqual([{ kind: "task.expired", expires_at: past }]);
  });

  it("10 parallel bulk PUT /tasks over the same tasks notice each task once", async () => {
    const user = await createUser("member");
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => createTask(user, { title: `bulk ${i}` })));
    const past = iso(Date.now() - 60_000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api("/tasks", {
          method: "PUT",
          token: user.token,
          json: { tasks: ids.map((id) => ({ id, expires_at: past })) },
        }),
      ),
    );
    expect(answers.every((res) => res.status === 200)).toBe(true);
    for (const id of ids) {
      expect(await notices(id)).toEqual([{ kind: "task.expired", expires_at: past }]);
      expect(await mailCount(id)).toBe(1);
    }
  });

  it("scans racing each other and writes that move the expiry never notice one expiry twice", async () => {
    const user = await createUser("member");
    const now = Date.now();
    // Due and not yet noticed, as a task is once its time comes inside the window.
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    await env.DB.batch(
      ids.map((id, i) =>
        env.DB.prepare(
          "INSERT INTO tasks (id, title, description, status, expires_at, created_by, created_at, updated_at) VALUES (?, ?, '', 'todo', ?, ?, ?, ?)",
        ).bind(id, `scan race ${i}`, now - 120_000, user.id, now, now),
      ),
    );
    const moved = iso(now - 30_000);
    await Promise.all([
      scanExpiringTasks(env, now),
      scanExpiringTasks(env, now),
      ...ids.map((id) => api(`/tasks/${id}`, { method: "PATCH", token: user.token, json: { expires_at: moved } })),
      ...ids.map((id) => api(`/tasks/${id}`, { method: "PATCH", token: user.token, json: { expires_at: moved } })),
      scanExpiringTasks(env, now),
    ]);
    for (const id of ids) {
      const written = await notices(id);
      // The expiry the task has now was noticed exactly once; the first one at most once (if a scan got there first).
      expect(written.filter((notice) => notice.expires_at === moved)).toHaveLength(1);
      expect(written.filter((notice) => notice.expires_at === iso(now - 120_000)).length).toBeLessThanOrEqual(1);
      expect(await mailCount(id)).toBe(written.length);
    }
    // Nothing is left for a later scan.
    await scanExpiringTasks(env, now);
    for (const id of ids) expect((await notices(id)).filter((n) => n.expires_at === moved)).toHaveLength(1);
  });
});
