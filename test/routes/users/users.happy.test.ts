import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createUser, expectProblem } from "../../helpers";

type User = { id: string; email: string; username: string; role: string; created_at: string; updated_at: string };
type Page = { items: User[]; total: number; limit: number; offset: number };

const unique = () => crypto.randomUUID().slice(0, 8);

describe("admin user management", { timeout: 30_000 }, () => {
  it("creates a user who can then sign in; GET returns it", async () => {
    const admin = await createUser("admin");
    const tag = unique();
    const res = await api("/users", {
      method: "POST",
      token: admin.token,
      json: { email: `Created-${tag}@Example.com`, username: `Created-${tag}`, password: "first password" },
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as User;
    expect(user).toMatchObject({ email: `created-${tag}@example.com`, username: `created-${tag}`, role: "member" });
    expect(res.headers.get("location")).toBe(`/api/v1/users/${user.id}`);
    expect(Date.parse(user.created_at)).not.toBeNaN();

    const got = await api(`/users/${user.id}`, { token: admin.token });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(user);

    const login = await api("/auth/login", { method: "POST", json: { email: user.email, password: "first password" } });
    expect(login.status).toBe(200);
  });

  it("lists with paging, role filter, search and ordering", async () => {
    const admin = await createUser("admin");
    const tag = unique();
    for (const name of ["b", "a", "c"])
      await createUser("member", { username: `zz${tag}${name}`, email: `${name}-${tag}@list.example` });
    await createUser("admin", { username: `zz${tag}admin`, email: `admin-${tag}@list.example` });

    const all = (await (await api(`/users?search=${tag}&limit=100`, { token: admin.token })).json()) as Page;
    expect(all.total).toBe(4);
    const members = (await (await api(`/users?search=${tag}&role=member`, { token: admin.token })).json()) as Page;
    expect(members.total).toBe(3);
    expect(members.items.every((u) => u.role === "member")).toBe(true);

    const ordered = await api(`/users?search=zz${tag}&role=member&ordering=username&limit=2&offset=1`, {
      token: admin.token,
    });
    expect(ordered.status).toBe(200);
    const page = (await ordered.json()) as Page;
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(page.items.map((u) => u.username)).toEqual([`zz${tag}b`, `zz${tag}c`]);
    const desc = (await (
      await api(`/users?search=zz${tag}&role=member&ordering=-username`, { token: admin.token })
    ).json()) as Page;
    expect(desc.items.map((u) => u.username)).toEqual([`zz${tag}c`, `zz${tag}b`, `zz${tag}a`]);

    // Search is case-insensitive and LIKE wildcards are literal.
    const upper = (await (await api(`/users?search=${tag.toUpperCase()}`, { token: admin.token })).json()) as Page;
    expect(upper.total).toBe(4);
    const wildcard = (await (
      await api(`/users?search=${encodeURIComponent("%")}${tag}`, { token: admin.token })
    ).json()) as Page;
    expect(wildcard.total).toBe(0);
  });

  it("patches email, username and role, and a new password ends the user's sessions", async () => {
    const superuser = await createUser("superuser");
    const user = await createUser("member");
    const pair = (await (
      await api("/auth/login", { method: "POST", json: { email: user.email, password: user.password } })
    ).json()) as { refresh_token: string };
    const tag = unique();
    const res = await api(`/users/${user.id}`, {
      method: "PATCH",
      token: superuser.token,
      json: {
        email: `Moved-${tag}@example.com`,
        username: `moved-${tag}`,
        role: "admin",
        password: "brand new password",
      },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as User;
    expect(body).toMatchObject({
      id: user.id,
      email: `moved-${tag}@example.com`,
      username: `moved-${tag}`,
      role: "admin",
    });
    expect(Date.parse(body.updated_at)).toBeGreaterThanOrEqual(Date.parse(body.created_at));
    expect(await (await api(`/users/${user.id}`, { token: superuser.token })).json()).toEqual(body);

    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: pair.refresh_token } }),
      401,
    );
    const oldPw = await api("/auth/login", { method: "POST", json: { email: body.email, password: user.password } });
    expect(oldPw.status).toBe(401);
    const newPw = await api("/auth/login", {
      method: "POST",
      json: { email: body.email, password: "brand new password" },
    });
    expect(newPw.status).toBe(200);
  });

  it("an admin may change their own profile fields", async () => {
    const admin = await createUser("admin");
    const res = await api(`/users/${admin.id}`, {
      method: "PATCH",
      token: admin.token,
      json: { username: `me-${unique()}` },
    });
    expect(res.status).toBe(200);
    // Same role, so the existing token keeps working.
    expect((await api("/auth/me", { token: admin.token })).status).toBe(200);
  });

  it("delete is soft: the row stays for attribution, identity is freed, sessions end, tasks stay", async () => {
    const admin = await createUser("admin");
    const user = await createUser("member");
    const login = (await (
      await api("/auth/login", { method: "POST", json: { email: user.email, password: user.password } })
    ).json()) as { refresh_token: string };
    const taskId = crypto.randomUUID();
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO tasks (id, title, description, status, created_by, created_at, updated_at) VALUES (?, 'kept', '', 'todo', ?, ?, ?)",
    )
      .bind(taskId, user.id, now, now)
      .run();

    const res = await api(`/users/${user.id}`, { method: "DELETE", token: admin.token });
    expect(res.status).toBe(204);

    const row = await env.DB.prepare("SELECT email, username, password_hash, deleted_at FROM users WHERE id = ?")
      .bind(user.id)
      .first<{ email: string; username: string; password_hash: string; deleted_at: number | null }>();
    expect(row).toMatchObject({ email: `deleted+${user.id}@invalid`, username: `deleted-${user.id}` });
    expect(row?.deleted_at).toBeGreaterThan(0);
    expect(row?.password_hash).not.toMatch(/^scrypt/);
    const live = await env.DB.prepare(
      "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL",
    )
      .bind(user.id)
      .first<{ n: number }>();
    expect(live?.n).toBe(0);
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: login.refresh_token } }),
      401,
    );
    const task = await env.DB.prepare("SELECT created_by FROM tasks WHERE id = ?").bind(taskId).first();
    expect(task).toEqual({ created_by: user.id });

    await expectProblem(await api(`/users/${user.id}`, { token: admin.token }), 404);
    const listed = (await (await api(`/users?search=${user.username}`, { token: admin.token })).json()) as Page;
    expect(listed.total).toBe(0);

    // The email and username can be used again, by a new account with a new id.
    const again = await api("/auth/register", {
      method: "POST",
      json: { email: user.email, username: user.username, password: "a fresh password" },
    });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { user: User }).user.id).not.toBe(user.id);
  });
});
