import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_CREATIONS_PER_DAY, limits, SIGNUPS_PER_DAY } from "../../../src/auth/rate-limit";
import worker from "../../../src/index";
import { api, createUser, expectProblem } from "../../helpers";

/**
 * The attacks of the account-safety issue, each against the running Worker. Every one of them succeeded before
 * (the limit was checked before and counted after the password hash; access tokens lived out their 15 minutes).
 */

type Pair = { access_token: string; refresh_token: string; device_token?: string; user: { id: string } };

const MAX = Number(env.LOGIN_MAX_FAILURES);
const unique = () => crypto.randomUUID().slice(0, 8);
let octet = 0;
/** A distinct client address per call, so only the account's own limit is in play. */
const address = () => `198.18.${Math.floor(++octet / 250)}.${octet % 250}`;

function login(json: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api("/auth/login", { method: "POST", json, headers: { "cf-connecting-ip": address(), ...headers } });
}

async function signIn(email: string, password: string): Promise<Pair> {
  const res = await login({ email, password });
  expect(res.status).toBe(200);
  return (await res.json()) as Pair;
}

const me = (token: string) => api("/auth/me", { token });

async function accountCount(email: string): Promise<number | undefined> {
  const row = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?")
    .bind(`acct:${email}`)
    .first<{ count: number }>();
  return row?.count;
}

describe("a login limit that holds under concurrency", { timeout: 60_000 }, () => {
  it(`40 parallel wrong guesses from 40 addresses check at most ${MAX} passwords`, async () => {
    const user = await createUser("member");
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => login({ email: user.email, password: `guess-${unique()}` })),
    );
    const statuses = answers.map((res) => res.status);
    // A 401 is an answer after scrypt ran (a password was checked); a 429 was refused before any hashing.
    expect(statuses.filter((s) => s === 401)).toHaveLength(MAX);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40 - MAX);
    for (const res of answers.filter((r) => r.status === 429)) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(await accountCount(user.email)).toBe(40);
  });

  it("30 parallel guesses from ONE address are stopped the same way", async () => {
    const user = await createUser("member");
    const ip = address();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        api("/auth/login", {
          method: "POST",
          json: { email: user.email, password: `guess-${unique()}` },
          headers: { "cf-connecting-ip": ip },
        }),
      ),
    );
    expect(answers.filter((r) => r.status === 401)).toHaveLength(MAX);
  });
});

describe("device tokens: an attacker cannot lock the owner out", { timeout: 60_000 }, () => {
  it("the owner's device token still signs in while the account is locked for everyone else", async () => {
    const user = await createUser("member");
    const first = await signIn(user.email, user.password);
    expect(first.device_token).toEqual(expect.any(String));

    for (let i = 0; i < MAX + 2; i++) await login({ email: user.email, password: "attacker guess" });
    // Locked for anyone without the device token, the right password included.
    await expectProblem(await login({ email: user.email, password: user.password }), 429);

    // The owner, with the token in the body or as the cookie, from any address.
    const body = await login({ email: user.email, password: user.password, device_token: first.device_token });
    expect(body.status).toBe(200);
    const cookie = await login(
      { email: user.email, password: user.password },
      { cookie: `device_token=${first.device_token}` },
    );
    expect(cookie.status).toBe(200);
  });

  it("the sign-in sets the device token as an HttpOnly cookie scoped to the auth routes", async () => {
    const user = await createUser("member");
    const res = await login({ email: user.email, password: user.password });
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^device_token=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/api\/v1\/auth/);
  });

  it("guesses with a device token are limited on that device, and a token for another account is ignored", async () => {
    const owner = await createUser("member");
    const { device_token } = await signIn(owner.email, owner.password);
    for (let i = 0; i < MAX; i++) {
      await expectProblem(await login({ email: owner.email, password: "wrong", device_token }), 401);
    }
    await expectProblem(await login({ email: owner.email, password: owner.password, device_token }), 429);
    // That device was limited, not the account: without it the owner still signs in.
    expect((await login({ email: owner.email, password: owner.password })).status).toBe(200);

    // Another account's device token does not unlock a locked account.
    const victim = await createUser("member");
    for (let i = 0; i < MAX + 1; i++) await login({ email: victim.email, password: "attacker guess" });
    const other = await createUser("member");
    const foreign = (await signIn(other.email, other.password)).device_token;
    await expectProblem(await login({ email: victim.email, password: victim.password, device_token: foreign }), 429);
    // A forged or garbled one neither.
    await expectProblem(
      await login({ email: victim.email, password: victim.password, device_token: `${foreign}x` }),
      429,
    );
  });

  it("a device token is not an access token", async () => {
    const user = await createUser("member");
    const { device_token } = await signIn(user.email, user.password);
    await expectProblem(await me(device_token!), 401);
  });
});

describe("tokens that die at once", { timeout: 60_000 }, () => {
  it("logout-all ends every access token issued before, and every refresh token", async () => {
    const user = await createUser("member");
    const a = await signIn(user.email, user.password);
    const b = await signIn(user.email, user.password);
    expect((await me(a.access_token)).status).toBe(200);
    expect((await api("/auth/logout-all", { method: "POST", token: a.access_token })).status).toBe(204);
    await expectProblem(await me(a.access_token), 401);
    await expectProblem(await me(b.access_token), 401);
    await expectProblem(await api("/auth/refresh", { method: "POST", json: { refresh_token: b.refresh_token } }), 401);
    // Signing in again works.
    expect((await me((await signIn(user.email, user.password)).access_token)).status).toBe(200);
  });

  it("a password change ends the other tokens and hands the caller a fresh pair", async () => {
    const user = await createUser("member");
    const old = await signIn(user.email, user.password);
    const res = await api("/auth/password/change", {
      method: "POST",
      token: old.access_token,
      json: { current_password: user.password, new_password: "a brand new password" },
    });
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as Pair;
    expect(fresh.device_token).toEqual(expect.any(String));
    await expectProblem(await me(old.access_token), 401);
    await expectProblem(await me(user.token), 401);
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: old.refresh_token } }),
      401,
    );
    expect((await me(fresh.access_token)).status).toBe(200);
    expect((await api("/auth/refresh", { method: "POST", json: { refresh_token: fresh.refresh_token } })).status).toBe(
      200,
    );
    await expectProblem(await login({ email: user.email, password: user.password }), 401);
    expect((await login({ email: user.email, password: "a brand new password" })).status).toBe(200);
  });

  it("a wrong current password is 403, and guessing it is limited", async () => {
    const user = await createUser("member");
    for (let i = 0; i < MAX; i++) {
      await expectProblem(
        await api("/auth/password/change", {
          method: "POST",
          token: user.token,
          json: { current_password: `wrong-${i}`, new_password: "a brand new password" },
        }),
        403,
      );
    }
    const limited = await api("/auth/password/change", {
      method: "POST",
      token: user.token,
      json: { current_password: user.password, new_password: "a brand new password" },
    });
    await expectProblem(limited, 429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("a role change ends the old token, and changing the role back does not revive it", async () => {
    const root = await createUser("superuser");
    const admin = await createUser("admin");
    const old = await signIn(admin.email, admin.password);
    expect((await api("/users", { token: old.access_token })).status).toBe(200);
    const patch = (role: string) => api(`/users/${admin.id}`, { method: "PATCH", token: root.token, json: { role } });
    expect((await patch("member")).status).toBe(200);
    await expectProblem(await me(old.access_token), 401);
    expect((await patch("admin")).status).toBe(200);
    // Same role as the token claims again, but the version moved on twice.
    await expectProblem(await me(old.access_token), 401);
    await expectProblem(await api("/users", { token: old.access_token }), 401);
    const version = await env.DB.prepare("SELECT token_version FROM users WHERE id = ?")
      .bind(admin.id)
      .first<{ token_version: number }>();
    expect(version?.token_version).toBe(2);
  });

  it("a password set by an admin ends the user's access tokens", async () => {
    const root = await createUser("superuser");
    const member = await createUser("member");
    const old = await signIn(member.email, member.password);
    const res = await api(`/users/${member.id}`, {
      method: "PATCH",
      token: root.token,
      json: { password: "set by the admin" },
    });
    expect(res.status).toBe(200);
    await expectProblem(await me(old.access_token), 401);
  });

  it("deletion ends the access token at once", async () => {
    const root = await createUser("superuser");
    const member = await createUser("member");
    const old = await signIn(member.email, member.password);
    expect((await api(`/users/${member.id}`, { method: "DELETE", token: root.token })).status).toBe(204);
    await expectProblem(await me(old.access_token), 401);
    const row = await env.DB.prepare("SELECT token_version FROM users WHERE id = ?")
      .bind(member.id)
      .first<{ token_version: number }>();
    expect(row?.token_version).toBe(1);
  });

  it("an access token without a version claim is refused", async () => {
    const { signJwt, ACCESS_TOKEN_TYPE } = await import("../../../src/auth/tokens");
    const user = await createUser("member");
    const versionless = await signJwt(env, {
      typ: ACCESS_TOKEN_TYPE,
      subject: user.id,
      ttlSeconds: 60,
      claims: { role: "member" },
    });
    await expectProblem(await me(versionless), 401);
  });
});

describe("sign-ups are limited per client address and in all; admins per admin", { timeout: 60_000 }, () => {
  const max = 3;
  const limited = { ...env, SIGNUP_MAX_PER_ADDRESS: String(max) } as Env;
  /** The Worker's own fetch entry point under a lower limit, so the test needs few (slow, scrypt) sign-ups. */
  async function send(path: string, json: unknown, headers: Record<string, string>, token?: string) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`http://localhost/api/v1${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify(json),
      }),
      limited,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }
  const register = (headers: Record<string, string>) =>
    send("/auth/register", { email: `su-${unique()}@example.com`, password: "a long enough password" }, headers);

  it(`sign-ups past ${max} from one address are 429s; another address still signs up`, async () => {
    const ip = address();
    const answers = await Promise.all(Array.from({ length: max + 3 }, () => register({ "cf-connecting-ip": ip })));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(max);
    const refused = answers.find((r) => r.status === 429)!;
    await expectProblem(refused, 429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await register({ "cf-connecting-ip": address() })).status).toBe(201);
  });

  it("an admin onboarding a team of 25 from one address in an hour is never refused (counted per admin)", async () => {
    const admin = await createUser("admin");
    const ip = address();
    const create = () =>
      send(
        "/users",
        { email: `ac-${unique()}@example.com`, username: `ac-${unique()}`, password: "a long enough password" },
        { "cf-connecting-ip": ip },
        admin.token,
      );
    // The same client address is past its sign-up limit (max = 3 here), which admins do not share.
    for (let i = 0; i < 25; i++) expect((await create()).status).toBe(201);
    // Sign-ups from that address have their own budget, untouched.
    expect((await register({ "cf-connecting-ip": ip })).status).toBe(201);
  });

  it(`an admin past ${ADMIN_CREATIONS_PER_DAY} accounts a day is refused; another admin is not`, async () => {
    const [busy, other] = [await createUser("admin"), await createUser("admin")];
    const key = limits.accountCreation(busy.id).key;
    // As if this admin had made ADMIN_CREATIONS_PER_DAY accounts in the last hours (each is a slow password hash).
    await env.DB.prepare("INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES (?, ?, ?, ?)")
      .bind(key, Date.now() - 3_600_000, ADMIN_CREATIONS_PER_DAY, Date.now() + 20 * 3_600_000)
      .run();
    const body = () => ({
      email: `ac-${unique()}@example.com`,
      username: `ac-${unique()}`,
      password: "a long enough password",
    });
    const refused = await send("/users", body(), { "cf-connecting-ip": address() }, busy.token);
    await expectProblem(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(19 * 3600);
    expect((await send("/users", body(), { "cf-connecting-ip": address() }, other.token)).status).toBe(201);
  });

  it(`all clients together get ${SIGNUPS_PER_DAY} sign-ups a day`, async () => {
    await env.DB.prepare(
      "INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET window_start = ?2, count = ?3, expires_at = ?4",
    )
      .bind(limits.signUpAll().key, Date.now() - 60_000, SIGNUPS_PER_DAY, Date.now() + 23 * 3_600_000)
      .run();
    await expectProblem(await register({ "cf-connecting-ip": address() }), 429);
    await env.DB.prepare("DELETE FROM rate_limits WHERE key = ?").bind(limits.signUpAll().key).run();
    expect((await register({ "cf-connecting-ip": address() })).status).toBe(201);
  });

  it("local runs without CF-Connecting-IP get one key per client, not one for everybody", async () => {
    const a = { "x-client-id": `client-a-${unique()}`, "cf-connecting-ip": "127.0.0.1" };
    for (let i = 0; i < max; i++) expect((await register(a)).status).toBe(201);
    await expectProblem(await register(a), 429);
    expect((await register({ "x-client-id": `client-b-${unique()}`, "cf-connecting-ip": "127.0.0.1" })).status).toBe(
      201,
    );
  });
});
