import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { signAccessToken, signJwt } from "../../../src/auth/tokens";
import { api, BASE, createUser, expectProblem } from "../../helpers";

type TokenPair = { access_token: string; refresh_token: string; user: { id: string } };

const unique = () => crypto.randomUUID().slice(0, 8);
const refresh = (refresh_token: string) => api("/auth/refresh", { method: "POST", json: { refresh_token } });

async function login(email: string, password: string) {
  const res = await api("/auth/login", { method: "POST", json: { email, password } });
  expect(res.status).toBe(200);
  return (await res.json()) as TokenPair;
}

async function familyRows(userId: string) {
  const { results } = await env.DB.prepare("SELECT revoked_at FROM refresh_tokens WHERE user_id = ?")
    .bind(userId)
    .all<{ revoked_at: number | null }>();
  return results;
}

describe("refresh token reuse detection (RFC 9700)", { timeout: 20_000 }, () => {
  it("presenting a rotated token is 401 and revokes the family, so the newer token dies too", async () => {
    const user = await createUser("member");
    const first = await login(user.email, user.password);
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    const second = (await rotated.json()) as TokenPair;

    await expectProblem(await refresh(first.refresh_token), 401);
    await expectProblem(await refresh(second.refresh_token), 401);
    // Ending a family deletes its rows (and with them the sign-in its access tokens name).
    expect(await familyRows(user.id)).toHaveLength(0);
  });

  it("two concurrent uses of one token: exactly one wins, and the family is revoked", async () => {
    const user = await createUser("member");
    const first = await login(user.email, user.password);
    const answers = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = answers.find((r) => r.status === 200)!;
    const { refresh_token } = (await winner.json()) as TokenPair;
    await expectProblem(await refresh(refresh_token), 401);
  });
});

describe("access tokens follow the account at once", { timeout: 20_000 }, () => {
  it("a role change invalidates existing access tokens (and /auth/me shows the new role after a refresh)", async () => {
    const user = await createUser("member");
    const pair = await login(user.email, user.password);
    expect((await api("/auth/me", { token: pair.access_token })).status).toBe(200);
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(user.id).run();
    await expectProblem(await api("/auth/me", { token: pair.access_token }), 401);
    const renewed = (await (await refresh(pair.refresh_token)).json()) as TokenPair;
    const me = await api("/auth/me", { token: renewed.access_token });
    expect(((await me.json()) as { role: string }).role).toBe("admin");
  });

  it("a deleted user can neither use its access token, refresh, nor sign in", async () => {
    const admin = await createUser("admin");
    const user = await createUser("member");
    const pair = await login(user.email, user.password);
    const del = await api(`/users/${user.id}`, { method: "DELETE", token: admin.token });
    expect(del.status).toBe(204);
    await expectProblem(await api("/auth/me", { token: pair.access_token }), 401);
    await expectProblem(await refresh(pair.refresh_token), 401);
    const res = await api("/auth/login", { method: "POST", json: { email: user.email, password: user.password } });
    const body = await expectProblem(res, 401);
    expect(body.detail).toBe("Invalid email or password.");
  });
});

describe("JWT tampering is always 401", { timeout: 20_000 }, () => {
  const b64 = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

  async function forged() {
    const user = await createUser("member");
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: user.id,
      role: "member",
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
      iat: now,
      exp: now + 600,
      jti: crypto.randomUUID(),
    };
    const secret = new TextEncoder().encode(env.JWT_SECRET);
    const [, payload, signature] = user.token.split(".");
    return {
      user,
      cases: {
        "alg none": `${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims)}.`,
        "alg none with the original signature": `${b64({ alg: "none", typ: "at+jwt" })}.${payload}.${signature}`,
        "a foreign key": await new SignJWT(claims)
          .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
          .sign(new TextEncoder().encode("another-secret-0123456789abcdef0123456789")),
        "HS512 with our secret": await new SignJWT(claims)
          .setProtectedHeader({ alg: "HS512", typ: "at+jwt" })
          .sign(secret),
        "a wrong issuer": await signJwt(
          { ...env, JWT_ISSUER: "someone-else" },
          {
            typ: "at+jwt",
            subject: user.id,
            ttlSeconds: 600,
            claims: { role: "member" },
          },
        ),
        "a wrong audience": await signJwt(env, {
          typ: "at+jwt",
          subject: user.id,
          ttlSeconds: 600,
          audience: "another-api",
          claims: { role: "member" },
        }),
        "a wrong typ": await signJwt(env, {
          typ: "JWT",
          subject: user.id,
          ttlSeconds: 600,
          claims: { role: "member" },
        }),
        "no role claim": await signJwt(env, { typ: "at+jwt", subject: user.id, ttlSeconds: 600 }),
        "an elevated role claim": await signAccessToken(env, { id: user.id, role: "admin" }),
        "an expired exp": await signAccessToken(env, user, Date.now() - 3600_000),
        "a changed payload": `${user.token.split(".")[0]}.${b64({ ...claims, role: "superuser" })}.${signature}`,
        "an unknown subject": await signAccessToken(env, { id: crypto.randomUUID(), role: "member" }),
      } as Record<string, string>,
    };
  }

  it("every forged or stale token is refused on a protected route, while the genuine one works", async () => {
    const { user, cases } = await forged();
    expect((await api("/auth/me", { token: user.token })).status).toBe(200);
    for (const [label, token] of Object.entries(cases)) {
      const res = await api("/auth/me", { token });
      expect(res.status, label).toBe(401);
      await res.arrayBuffer();
    }
    // The expired one says so; the rest never say which check failed.
    const expired = await expectProblem(await api("/auth/me", { token: cases["an expired exp"] }), 401);
    expect(expired.detail).toMatch(/expired/);
  });

  it("a refresh token presented as an access token is 401", async () => {
    const user = await createUser("member");
    const pair = await login(user.email, user.password);
    await expectProblem(await api("/auth/me", { token: pair.refresh_token }), 401);
  });
});

// Every failed attempt costs a real scrypt verification, so these tests take a few seconds each.
describe("login rate limiting", { timeout: 30_000 }, () => {
  /** A fresh app with a small limit, called with our own client address. */
  function limitedLogin(json: unknown, address: string, maxFailures = "3") {
    return createApp().fetch(
      new Request(`${BASE}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": address },
        body: JSON.stringify(json),
      }),
      { ...env, LOGIN_MAX_FAILURES: maxFailures, LOGIN_WINDOW_SECONDS: "600" },
      createExecutionContext(),
    );
  }
  const address = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${unique()}`;

  it("per account: after the limit even the right password is 429 with Retry-After, until the window ends", async () => {
    const user = await createUser("member");
    for (let i = 0; i < 3; i++) {
      const res = await limitedLogin({ email: user.email, password: "wrong" }, address());
      await expectProblem(res, 401);
    }
    const blocked = await limitedLogin({ email: user.email, password: user.password }, address());
    const body = await expectProblem(blocked, 429);
    expect(body.detail).toMatch(/try again in \d+ seconds/);
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);

    // Another account is not affected.
    const other = await createUser("member");
    expect((await limitedLogin({ email: other.email, password: other.password }, address())).status).toBe(200);

    // Move the window into the past: the account may try again.
    await env.DB.prepare("UPDATE rate_limits SET window_start = window_start - 601000 WHERE key = ?")
      .bind(`acct:${user.email}`)
      .run();
    expect((await limitedLogin({ email: user.email, password: user.password }, address())).status).toBe(200);
  });

  it("per account: unknown emails are counted too, and answer 429 the same way", async () => {
    const email = `ghost-${unique()}@example.com`;
    for (let i = 0; i < 3; i++) await expectProblem(await limitedLogin({ email, password: "x" }, address()), 401);
    await expectProblem(await limitedLogin({ email, password: "x" }, address()), 429);
  });

  it("per address: spraying many accounts from one address is stopped at 4x the account limit", async () => {
    const ip = address();
    for (let i = 0; i < 4; i++) {
      const res = await limitedLogin({ email: `spray-${i}-${unique()}@example.com`, password: "x" }, ip, "1");
      await expectProblem(res, 401);
    }
    const user = await createUser("member");
    const blocked = await limitedLogin({ email: user.email, password: user.password }, ip, "1");
    await expectProblem(blocked, 429);
    expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
    // The same account from another address is fine.
    expect((await limitedLogin({ email: user.email, password: user.password }, address(), "1")).status).toBe(200);
  });

  it("a successful sign-in clears the account's failures", async () => {
    const user = await createUser("member");
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++)
        await expectProblem(await limitedLogin({ email: user.email, password: "no" }, address()), 401);
      expect((await limitedLogin({ email: user.email, password: user.password }, address())).status).toBe(200);
    }
    const row = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?").bind(`acct:${user.email}`).first();
    expect(row).toBeNull();
  });
});
