import { env } from "cloudflare:workers";
import { scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../../src/auth/tokens";
import { api, createUser } from "../../helpers";

type TokenPair = {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  user: { id: string; email: string; username: string; role: string; created_at: string; updated_at: string };
};

const unique = () => crypto.randomUUID().slice(0, 8);

async function login(email: string, password: string) {
  const res = await api("/auth/login", { method: "POST", json: { email, password } });
  expect(res.status).toBe(200);
  return (await res.json()) as TokenPair;
}

describe("register", { timeout: 20_000 }, () => {
  it("creates a member, lower-cases the email, and signs in", async () => {
    const tag = unique();
    const res = await api("/auth/register", {
      method: "POST",
      json: { email: `New.Person-${tag}@Example.COM`, password: "a good long password", username: `np-${tag}` },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("/api/v1/auth/me");
    const body = (await res.json()) as TokenPair;
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(900);
    expect(body.refresh_expires_in).toBe(30 * 24 * 3600);
    expect(body.user).toMatchObject({ email: `new.person-${tag}@example.com`, username: `np-${tag}`, role: "member" });
    expect(body.user).not.toHaveProperty("password_hash");
    const claims = await verifyAccessToken(env, body.access_token);
    expect(claims).toMatchObject({ userId: body.user.id, role: "member" });

    const me = await api("/auth/me", { token: body.access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual(body.user);

    // The stored hash is scrypt with its parameters, never the password.
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(body.user.id)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^scrypt\$16384\$8\$5\$/);
    expect(row?.password_hash).not.toContain("a good long password");
  });

  it("derives a unique username from the email when none is given", async () => {
    const tag = unique();
    const first = await api("/auth/register", {
      method: "POST",
      json: { email: `Sam_${tag}@one.example`, password: "password-one-1" },
    });
    const second = await api("/auth/register", {
      method: "POST",
      json: { email: `sam_${tag}@two.example`, password: "password-two-2" },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    const a = ((await first.json()) as TokenPair).user.username;
    const b = ((await second.json()) as TokenPair).user.username;
    expect(a).toBe(`sam_${tag}`);
    expect(b).toMatch(new RegExp(`^sam_${tag}-[0-9a-f]{4}$`));
  });
});

describe("login, refresh, logout, me", { timeout: 20_000 }, () => {
  it("logs in with any email casing and returns the documented pair", async () => {
    const user = await createUser("member");
    const body = await login(user.email.toUpperCase(), user.password);
    expect(body.user).toMatchObject({ id: user.id, email: user.email, role: "member" });
    // `<sign-in id>.<256 random bits>`; the access token names the same sign-in.
    expect(body.refresh_token).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const claims = await verifyAccessToken(env, body.access_token);
    expect(claims.userId).toBe(user.id);
    expect(claims.sessionId).toBe(body.refresh_token.split(".")[0]);
  });

  it("rotates the refresh token: the new one works, the old one does not", async () => {
    const user = await createUser("member");
    const first = await login(user.email, user.password);
    const res = await api("/auth/refresh", { method: "POST", json: { refresh_token: first.refresh_token } });
    expect(res.status).toBe(200);
    const second = (await res.json()) as TokenPair;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.user.id).toBe(user.id);

    const third = await api("/auth/refresh", { method: "POST", json: { refresh_token: second.refresh_token } });
    expect(third.status).toBe(200);

    // One family that keeps only its current token and that token's parent, stored as hashes only.
    const rows = await env.DB.prepare(
      "SELECT id, family_id, parent_id, token_hash, used_at FROM refresh_tokens WHERE user_id = ? ORDER BY created_at, used_at IS NULL",
    )
      .bind(user.id)
      .all<{ id: string; family_id: string; parent_id: string | null; token_hash: string; used_at: number | null }>();
    expect(rows.results).toHaveLength(2);
    const [child, grandchild] = rows.results;
    expect(new Set(rows.results.map((r) => r.family_id))).toEqual(new Set([first.refresh_token.split(".")[0]]));
    expect(grandchild.parent_id).toBe(child.id);
    expect(child.used_at).not.toBeNull();
    expect(grandchild.used_at).toBeNull();
    for (const row of rows.results) {
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect([first.refresh_token, second.refresh_token]).not.toContain(row.token_hash);
    }
  });

  it("refresh issues an access token with the user's current role", async () => {
    const user = await createUser("member");
    const pair = await login(user.email, user.password);
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(user.id).run();
    const res = await api("/auth/refresh", { method: "POST", json: { refresh_token: pair.refresh_token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenPair;
    expect(body.user.role).toBe("admin");
    expect((await verifyAccessToken(env, body.access_token)).role).toBe("admin");
  });

  it("logout revokes the whole family (204) and is idempotent", async () => {
    const user = await createUser("member");
    const first = await login(user.email, user.password);
    const rotated = await api("/auth/refresh", { method: "POST", json: { refresh_token: first.refresh_token } });
    const second = (await rotated.json()) as TokenPair;
    // A second, independent sign-in is a different family and survives.
    const other = await login(user.email, user.password);

    const out = await api("/auth/logout", { method: "POST", json: { refresh_token: second.refresh_token } });
    expect(out.status).toBe(204);
    expect(await out.text()).toBe("");
    const again = await api("/auth/logout", { method: "POST", json: { refresh_token: second.refresh_token } });
    expect(again.status).toBe(204);

    const dead = await api("/auth/refresh", { method: "POST", json: { refresh_token: second.refresh_token } });
    expect(dead.status).toBe(401);
    const alive = await api("/auth/refresh", { method: "POST", json: { refresh_token: other.refresh_token } });
    expect(alive.status).toBe(200);
  });

  it("a hash made with older, weaker parameters is upgraded at the next sign-in", async () => {
    const user = await createUser("member");
    const salt = Buffer.from("0123456789abcdef");
    const key = scryptSync(user.password, salt, 32, { N: 1024, r: 8, p: 1 });
    const weak = ["scrypt", 1024, 8, 1, salt.toString("base64"), key.toString("base64")].join("$");
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(weak, user.id).run();
    await login(user.email, user.password);
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(user.id)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^scrypt\$16384\$8\$5\$/);
    await login(user.email, user.password);
  });

  it("the superuser is created at its first sign-in when absent, exactly once", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = ?")
      .bind(env.SUPERUSER_EMAIL)
      .first<{ n: number }>();
    expect(before?.n).toBe(0);
    const body = await login(env.SUPERUSER_EMAIL, env.SUPERUSER_PASSWORD);
    expect(body.user).toMatchObject({ email: env.SUPERUSER_EMAIL, role: "superuser" });
    const again = await login(env.SUPERUSER_EMAIL.toUpperCase(), env.SUPERUSER_PASSWORD);
    expect(again.user.id).toBe(body.user.id);
    const after = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE role = 'superuser'").first<{
      n: number;
    }>();
    expect(after?.n).toBe(1);
  });
});
