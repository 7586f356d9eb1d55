import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/routes/tasks/tasks.schemas";
import { api, call, createUser, expectProblem, type TestUser, tableCounts } from "../../helpers";

async function create(user: TestUser, json: Record<string, unknown> = {}): Promise<Task> {
  const res = await api("/tasks", { method: "POST", token: user.token, json: { title: "A task", ...json } });
  expect(res.status).toBe(201);
  return (await res.json()) as Task;
}

const future = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe("POST /tasks", () => {
  it("creates a task owned by the caller with defaults, and answers it with a Location", async () => {
    const alice = await createUser();
    const res = await api("/tasks", { method: "POST", token: alice.token, json: { title: "  Restock  " } });
    expect(res.status).toBe(201);
    const task = (await res.json()) as Task;
    expect(res.headers.get("location")).toBe(`/api/v1/tasks/${task.id}`);
    expect(task).toMatchObject({
      title: "Restock",
      description: "",
      status: "todo",
      expires_at: null,
      created_by: { id: alice.id, username: alice.username },
    });
    expect(task.created_at).toBe(task.updated_at);
    const stored = await env.DB.prepare("SELECT title, created_by FROM tasks WHERE id = ?").bind(task.id).first();
    expect(stored).toEqual({ title: "Restock", created_by: alice.id });
  });

  it("accepts every field and normalizes expires_at with an offset to UTC", async () => {
    const alice = await createUser();
    const task = await create(alice, {
      title: "Ship",
      description: "Two pallets",
      status: "in_progress",
      expires_at: "2099-01-01T12:00:00+02:00",
    });
    expect(task).toMatchObject({
      description: "Two pallets",
      status: "in_progress",
      expires_at: "2099-01-01T10:00:00.000Z",
    });
  });

  it("rejects invalid bodies with 422 and the offending paths, writing nothing", async () => {
    const alice = await createUser();
    const before = await tableCounts();
    const cases: [unknown, string][] = [
      [{}, "title"],
      [{ title: "" }, "title"],
      [{ title: "   " }, "title"],
      [{ title: "x".repeat(351) }, "title"],
      [{ title: "ok", description: "x".repeat(10_001) }, "description"],
      [{ title: "ok", status: "blocked" }, "status"],
      [{ title: "ok", expires_at: "tomorrow" }, "expires_at"],
      [{ title: "ok", created_by: alice.id }, "(body)"],
    ];
    for (const [json, path] of cases) {
      const body = await expectProblem(await api("/tasks", { method: "POST", token: alice.token, json }), 422);
      expect(body.errors?.map((e) => e.path)).toContain(path);
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("accepts a 350-character title and a 10,000-character description", async () => {
    const alice = await createUser();
    const task = await create(alice, { title: "t".repeat(350), description: "d".repeat(10_000) });
    expect(task.title).toHaveLength(350);
    expect(task.description).toHaveLength(10_000);
  });

  it("answers 415 for a non-JSON body, 400 for malformed JSON, 401 without a token", async () => {
    const alice = await createUser();
    await expectProblem(
      await api("/tasks", {
        method: "POST",
        token: alice.token,
        body: "title=x",
        headers: { "content-type": "text/plain" },
      }),
      415,
    );
    await expectProblem(
      await api("/tasks", {
        method: "POST",
        token: alice.token,
        body: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
    );
    await expectProblem(await api("/tasks", { method: "POST", json: { title: "x" } }), 401);
    await expectProblem(await api("/tasks", { method: "POST", token: "nope", json: { title: "x" } }), 401);
  });
});

describe("GET /tasks/{id}", () => {
  it("lets any signed-in user read any task, with fields/omit", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const task = await create(alice, { title: "Read me" });
    const res = await api(`/tasks/${task.id}`, { token: bob.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(task);
    const picked = await api(`/tasks/${task.id}?fields=id,title`, { token: bob.token });
    expect(await picked.json()).toEqual({ id: task.id, title: "Read me" });
    const omitted = (await (
      await api(`/tasks/${task.id}?omit=description,created_by`, { token: bob.token })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(omitted).sort()).toEqual(["created_at", "expires_at", "id", "status", "title", "updated_at"]);
  });

  it("answers 404 for an unknown id, 400 for a malformed id or an unknown field, 401 anonymously", async () => {
    const alice = await createUser();
    const task = await create(alice);
    await expectProblem(await api(`/tasks/${crypto.randomUUID()}`, { token: alice.token }), 404);
    const bad = await expectProblem(await api("/tasks/not-a-uuid", { token: alice.token }), 400);
    expect(bad.errors?.[0]?.path).toBe("id");
    const unknown = await expectProblem(await api(`/tasks/${task.id}?fields=id,secret`, { token: alice.token }), 400);
    expect(unknown.errors).toEqual([{ path: "fields", message: "unknown field 'secret'" }]);
    await expectProblem(await api(`/tasks/${task.id}`), 401);
  });
});

describe("PUT /tasks/{id}", () => {
  it("replaces every writable field and keeps id, creator and created_at", async () => {
    const alice = await createUser();
    const task = await create(alice, { description: "old", expires_at: future(600) });
    const replacement = { title: "New", description: "new", status: "in_progress", expires_at: null };
    const res = await api(`/tasks/${task.id}`, { method: "PUT", token: alice.token, json: replacement });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Task;
    expect(updated).toMatchObject({
      ...replacement,
      id: task.id,
      created_by: task.created_by,
      created_at: task.created_at,
    });
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(task.updated_at));
    expect(await (await api(`/tasks/${task.id}`, { token: alice.token })).json()).toEqual(updated);
  });

  it("requires every field (422) and answers 404 for an unknown task", async () => {
    const alice = await createUser();
    const task = await create(alice);
    const body = await expectProblem(
      await api(`/tasks/${task.id}`, { method: "PUT", token: alice.token, json: { title: "Only a title" } }),
      422,
    );
    expect(body.errors?.map((e) => e.path).sort()).toEqual(["description", "expires_at", "status"]);
    await expectProblem(
      await api(`/tasks/${crypto.randomUUID()}`, {
        method: "PUT",
        token: alice.token,
        json: { title: "x", description: "", status: "todo", expires_at: null },
      }),
      404,
    );
  });
});

describe("PATCH /tasks/{id}", () => {
  it("changes only the fields sent", async () => {
    const alice = await createUser();
    const task = await create(alice, { description: "keep me" });
    const res = await api(`/tasks/${task.id}`, { method: "PATCH", token: alice.token, json: { status: "done" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ title: task.title, description: "keep me", status: "done" });
  });

  it("leaves updated_at alone when nothing actually changes", async () => {
    const alice = await createUser();
    const task = await create(alice, { title: "Same" });
    const res = await api(`/tasks/${task.id}`, { method: "PATCH", token: alice.token, json: { title: "Same" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Task).updated_at).toBe(task.updated_at);
  });

  it("rejects an empty patch, unknown fields and a malformed id", async () => {
    const alice = await createUser();
    const task = await create(alice);
    await expectProblem(await api(`/tasks/${task.id}`, { method: "PATCH", token: alice.token, json: {} }), 422);
    await expectProblem(
      await api(`/tasks/${task.id}`, { method: "PATCH", token: alice.token, json: { id: crypto.randomUUID() } }),
      422,
    );
    await expectProblem(
      await api("/tasks/123", { method: "PATCH", token: alice.token, json: { status: "done" } }),
      400,
    );
    await expectProblem(
      await api(`/tasks/${crypto.randomUUID()}`, { method: "PATCH", token: alice.token, json: { status: "done" } }),
      404,
    );
  });
});

describe("DELETE /tasks/{id}", () => {
  it("deletes (204), after which the task is 404", async () => {
    const alice = await createUser();
    const task = await create(alice);
    const res = await api(`/tasks/${task.id}`, { method: "DELETE", token: alice.token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await api(`/tasks/${task.id}`, { token: alice.token }), 404);
    await expectProblem(await api(`/tasks/${task.id}`, { method: "DELETE", token: alice.token }), 404);
    await expectProblem(await api("/tasks/nope", { method: "DELETE", token: alice.token }), 400);
  });
});

describe("permissions: creator, other member, admin, superuser", () => {
  it("any signed-in user may change status; only the creator or an admin may change anything else", async () => {
    const creator = await createUser();
    const other = await createUser();
    const admin = await createUser("admin");
    const root = await createUser("superuser");
    const task = await create(creator, { title: "Shared", description: "d" });
    const patch = (user: TestUser, json: Record<string, unknown>) =>
      api(`/tasks/${task.id}`, { method: "PATCH", token: user.token, json });

    // status: everyone.
    for (const [user, status] of [
      [other, "in_progress"],
      [creator, "todo"],
      [admin, "done"],
      [root, "todo"],
    ] as const) {
      const res = await patch(user, { status });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Task).status).toBe(status);
    }

    // other fields: a member who is not the creator gets 403 naming the field, and nothing changes.
    for (const json of [
      { title: "Mine now" },
      { description: "x" },
      { expires_at: future(60) },
      { status: "done", title: "T" },
    ]) {
      const body = await expectProblem(await patch(other, json), 403);
      expect(body.errors?.map((e) => e.path)).not.toContain("status");
      expect(body.errors?.length).toBeGreaterThan(0);
    }
    const unchanged = (await (await api(`/tasks/${task.id}`, { token: other.token })).json()) as Task;
    expect(unchanged).toMatchObject({ title: "Shared", description: "d", status: "todo", expires_at: null });

    // PUT by another member: allowed when only the status differs, 403 otherwise.
    const same = { title: "Shared", description: "d", expires_at: null };
    const put = (user: TestUser, json: Record<string, unknown>) =>
      api(`/tasks/${task.id}`, { method: "PUT", token: user.token, json });
    expect((await put(other, { ...same, status: "in_progress" })).status).toBe(200);
    await expectProblem(await put(other, { ...same, title: "Changed", status: "in_progress" }), 403);

    // creator and admins may change other fields.
    expect((await patch(creator, { title: "By creator" })).status).toBe(200);
    expect((await patch(admin, { description: "By admin" })).status).toBe(200);
    expect((await patch(root, { expires_at: future(600) })).status).toBe(200);

    // delete: the other member may not; an admin may.
    await expectProblem(await api(`/tasks/${task.id}`, { method: "DELETE", token: other.token }), 403);
    expect((await api(`/tasks/${task.id}`, { token: other.token })).status).toBe(200);
    expect((await api(`/tasks/${task.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
  });

  it("the creator may delete their own task", async () => {
    const creator = await createUser();
    const task = await create(creator);
    expect((await api(`/tasks/${task.id}`, { method: "DELETE", token: creator.token })).status).toBe(204);
  });
});

describe("OpenAPI document", () => {
  it("documents every task operation with bearer security and problem responses", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    const expected = {
      "/api/v1/tasks": ["get", "post", "put", "delete"],
      "/api/v1/tasks/{id}": ["get", "put", "patch", "delete"],
    };
    for (const [path, methods] of Object.entries(expected)) {
      for (const method of methods) {
        const operation = doc.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        expect(operation?.security).toEqual([{ bearerAuth: [] }, { consoleCookie: [] }]);
        expect(Object.keys(operation?.responses ?? {})).toContain("401");
      }
    }
  });
});
