import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createUser, expectProblem } from "../../helpers";

/** What the users API shows and changes of account safety: email_verified, vouching, and token versions. */

const unique = () => crypto.randomUUID().slice(0, 8);
type User = { id: string; email: string; email_verified: boolean };

async function selfRegistered(): Promise<{ id: string; email: string; access_token: string }> {
  const email = `self-${unique()}@example.com`;
  const res = await api("/auth/register", {
    method: "POST",
    json: { email, password: "a long enough password" },
    headers: { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250)}` },
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { access_token: string; user: { id: string } };
  return { id: body.user.id, email, access_token: body.access_token };
}

describe("users API and verified email", { timeout: 30_000 }, () => {
  it("lists and reads email_verified: false for a self-registered member, true for one an admin made", async () => {
    const admin = await createUser("admin");
    const self = await selfRegistered();
    const one = (await (await api(`/users/${self.id}`, { token: admin.token })).json()) as User;
    expect(one.email_verified).toBe(false);
    const page = (await (await api(`/users?search=${self.email}`, { token: admin.token })).json()) as { items: User[] };
    expect(page.items.map((u) => u.email_verified)).toEqual([false]);
    const me = (await (await api("/auth/me", { token: admin.token })).json()) as User;
    expect(me.email_verified).toBe(true);
  });

  it("an address set by an admin is vouched for, and the verification mail sent to the old one stops working", async () => {
    const admin = await createUser("admin");
    const self = await selfRegistered();
    const row = await env.DB.prepare("SELECT count(*) AS n FROM account_tokens WHERE user_id = ? AND used_at IS NULL")
      .bind(self.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
    const res = await api(`/users/${self.id}`, {
      method: "PATCH",
      token: admin.token,
      json: { email: `vouched-${unique()}@example.com` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as User).email_verified).toBe(true);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM account_tokens WHERE user_id = ? AND used_at IS NULL")
      .bind(self.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("changing only the username keeps the user's tokens working", async () => {
    const admin = await createUser("admin");
    const member = await createUser("member");
    const res = await api(`/users/${member.id}`, {
      method: "PATCH",
      token: admin.token,
      json: { username: `renamed-${unique()}` },
    });
    expect(res.status).toBe(200);
    expect((await api("/auth/me", { token: member.token })).status).toBe(200);
  });

  it("the same role sent again does not end the user's tokens; a different one does", async () => {
    const root = await createUser("superuser");
    const member = await createUser("member");
    const patch = (role: string) => api(`/users/${member.id}`, { method: "PATCH", token: root.token, json: { role } });
    expect((await patch("member")).status).toBe(200);
    expect((await api("/auth/me", { token: member.token })).status).toBe(200);
    expect((await patch("admin")).status).toBe(200);
    await expectProblem(await api("/auth/me", { token: member.token }), 401);
  });
});
