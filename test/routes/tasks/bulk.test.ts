import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/routes/tasks/tasks.schemas";
import { api, createUser, expectProblem, type TestUser, tableCounts } from "../../helpers";

async function create(user: TestUser, title: string): Promise<Task> {
  const res = await api("/tasks", { method: "POST", token: user.token, json: { title } });
  expect(res.status).toBe(201);
  return (await res.json()) as Task;
}

async function titles(ids: string[]): Promise<Record<string, [string, string]>> {
  const out: Record<string, [string, string]> = {};
  for (const id of ids) {
    const row = await env.DB.prepare("SELECT title, status FROM tasks WHERE id = ?").bind(id).first<{
      title: string;
      status: string;
    }>();
    if (row) out[id] = [row.title, row.status];
  }
  return out;
}

describe("PUT /tasks (bulk update)", () => {
  it("applies every change in one go and answers the tasks in request order", async () => {
    const owner = await createUser();
    const [t1, t2, t3] = [await create(owner, "one"), await create(owner, "two"), await create(owner, "three")];
    const res = await api("/tasks", {
      method: "PUT",
      token: owner.token,
      json: {
        tasks: [
          { id: t3!.id, status: "done" },
          { id: t1!.id, title: "uno", description: "first" },
          { id: t2!.id, status: "in_progress", expires_at: "2099-05-01T00:00:00Z" },
        ],
      },
    });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: (Task & { expires_at: string | null })[] };
    expect(items.map((t) => t.id)).toEqual([t3!.id, t1!.id, t2!.id]);
    expect(items[2]).toMatchObject({ status: "in_progress", expires_at: "2099-05-01T00:00:00.000Z" });
    expect(await titles([t1!.id, t2!.id, t3!.id])).toEqual({
      [t1!.id]: ["uno", "todo"],
      [t2!.id]: ["two", "in_progress"],
      [t3!.id]: ["three", "done"],
    });
  });

  it("lets another member change only statuses in bulk, and an admin anything", async () => {
    const owner = await createUser();
    const other = await createUser();
    const admin = await createUser("admin");
    const [t1, t2] = [await create(owner, "a"), await create(owner, "b")];
    const statuses = await api("/tasks", {
      method: "PUT",
      token: other.token,
      json: {
        tasks: [
          { id: t1!.id, status: "done" },
          { id: t2!.id, status: "in_progress", title: "b" },
        ],
      },
    });
    expect(statuses.status).toBe(200);
    const retitled = await api("/tasks", {
      method: "PUT",
      token: admin.token,
      json: { tasks: [{ id: t1!.id, title: "by admin" }] },
    });
    expect(retitled.status).toBe(200);
    expect(await titles([t1!.id, t2!.id])).toEqual({ [t1!.id]: ["by admin", "done"], [t2!.id]: ["b", "in_progress"] });
  });

  it("is all or nothing: one unknown or forbidden id changes nothing and each is listed with why", async () => {
    const owner = await createUser();
    const other = await createUser();
    const mine = await create(other, "mine");
    const theirs = await create(owner, "theirs");
    const missing = crypto.randomUUID();
    const before = await tableCounts();

    const forbidden = await expectProblem(
      await api("/tasks", {
        method: "PUT",
        token: other.token,
        json: {
          tasks: [
            { id: mine.id, title: "changed" },
            { id: theirs.id, title: "stolen" },
          ],
        },
      }),
      403,
    );
    expect(forbidden.failures).toEqual([{ id: theirs.id, reason: "forbidden" }]);
    expect(forbidden.errors).toEqual([{ path: "tasks.1.id", message: "forbidden" }]);

    const mixed = await expectProblem(
      await api("/tasks", {
        method: "PUT",
        token: other.token,
        json: {
          tasks: [
            { id: missing, status: "done" },
            { id: mine.id, title: "changed" },
            { id: theirs.id, description: "nope" },
          ],
        },
      }),
      404,
    );
    expect(mixed.failures).toEqual([
      { id: missing, reason: "not_found" },
      { id: theirs.id, reason: "forbidden" },
    ]);
    expect(mixed.detail).toMatch(/2 of the 3 tasks/);

    expect(await titles([mine.id, theirs.id])).toEqual({
      [mine.id]: ["mine", "todo"],
      [theirs.id]: ["theirs", "todo"],
    });
    expect(await tableCounts()).toEqual(before);
  });

  it("validates the body: 1 to 100 items, unique ids, a change in each, known fields", async () => {
    const owner = await createUser();
    const task = await create(owner, "x");
    const put = (json: unknown) => api("/tasks", { method: "PUT", token: owner.token, json });
    const cases: [unknown, string][] = [
      [{ tasks: [] }, "tasks"],
      [{}, "tasks"],
      [{ tasks: [{ id: task.id }] }, "tasks.0"],
      [{ tasks: [{ id: "nope", status: "done" }] }, "tasks.0.id"],
      [
        {
          tasks: [
            { id: task.id, status: "done" },
            { id: task.id, title: "y" },
          ],
        },
        "tasks.1.id",
      ],
      [{ tasks: [{ id: task.id, owner: "me" }] }, "tasks.0"],
      [
        {
          tasks: Array.from({ length: 101 }, () => ({ id: crypto.randomUUID(), status: "done" })),
        },
        "tasks",
      ],
    ];
    for (const [json, path] of cases) {
      const body = await expectProblem(await put(json), 422);
      expect(
        body.errors?.map((e) => e.path),
        JSON.stringify(json).slice(0, 80),
      ).toContain(path);
    }
    await expectProblem(await api("/tasks", { method: "PUT", json: { tasks: [] } }), 401);
  });

  it("handles the full 100 tasks in one request", async () => {
    const owner = await createUser();
    const ids: string[] = [];
    const now = Date.now();
    const statements = Array.from({ length: 100 }, (_, i) => {
      const id = crypto.randomUUID();
      ids.push(id);
      return env.DB.prepare(
        "INSERT INTO tasks (id, title, description, status, created_by, created_at, updated_at) VALUES (?, ?, '', 'todo', ?, ?, ?)",
      ).bind(id, `bulk ${i}`, owner.id, now, now);
    });
    await env.DB.batch(statements);
    const res = await api("/tasks", {
      method: "PUT",
      token: owner.token,
      json: { tasks: ids.map((id) => ({ id, status: "done" })) },
    });
    expect(res.status).toBe(200);
    const done = await env.DB.prepare(
      `SELECT count(*) AS n FROM tasks WHERE status = 'done' AND id IN (${ids.map(() => "?").join(",")})`,
    )
      .bind(...ids)
      .first<{ n: number }>();
    expect(done?.n).toBe(100);

    const deleted = await api("/tasks", { method: "DELETE", token: owner.token, json: { ids } });
    expect(deleted.status).toBe(204);
    expect(Object.keys(await titles(ids))).toHaveLength(0);
  });
});

describe("DELETE /tasks (bulk delete)", () => {
  it("deletes every listed task (204)", async () => {
    const owner = await createUser();
    const admin = await createUser("admin");
    const [t1, t2] = [await create(owner, "a"), await create(owner, "b")];
    const res = await api("/tasks", { method: "DELETE", token: admin.token, json: { ids: [t1!.id, t2!.id] } });
    expect(res.status).toBe(204);
    expect(await titles([t1!.id, t2!.id])).toEqual({});
  });

  it("is all or nothing, listing each unknown or forbidden id", async () => {
    const owner = await createUser();
    const other = await createUser();
    const mine = await create(other, "mine");
    const theirs = await create(owner, "theirs");
    const missing = crypto.randomUUID();
    const before = await tableCounts();

    const forbidden = await expectProblem(
      await api("/tasks", { method: "DELETE", token: other.token, json: { ids: [mine.id, theirs.id] } }),
      403,
    );
    expect(forbidden.failures).toEqual([{ id: theirs.id, reason: "forbidden" }]);
    expect(forbidden.errors).toEqual([{ path: "ids.1", message: "forbidden" }]);

    const mixed = await expectProblem(
      await api("/tasks", { method: "DELETE", token: other.token, json: { ids: [theirs.id, mine.id, missing] } }),
      404,
    );
    expect(mixed.failures).toEqual([
      { id: theirs.id, reason: "forbidden" },
      { id: missing, reason: "not_found" },
    ]);
    expect(await tableCounts()).toEqual(before);
    expect(Object.keys(await titles([mine.id, theirs.id]))).toHaveLength(2);
  });

  it("validates the body and needs a JSON body", async () => {
    const owner = await createUser();
    const id = crypto.randomUUID();
    for (const [json, path] of [
      [{ ids: [] }, "ids"],
      [{ ids: ["x"] }, "ids.0"],
      [{ ids: [id, id] }, "ids.1"],
      [{ ids: Array.from({ length: 101 }, () => crypto.randomUUID()) }, "ids"],
      [{ ids: [id], all: true }, "(body)"],
    ] as const) {
      const body = await expectProblem(await api("/tasks", { method: "DELETE", token: owner.token, json }), 422);
      expect(body.errors?.map((e) => e.path)).toContain(path);
    }
    await expectProblem(await api("/tasks", { method: "DELETE", token: owner.token }), 422);
    await expectProblem(await api("/tasks", { method: "DELETE", json: { ids: [id] } }), 401);
  });
});
