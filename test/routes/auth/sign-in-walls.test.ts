import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createUser, expectProblem } from "../../helpers";
import { inbox, RESET_SUBJECT } from "../../mail/inbox";

/**
 * Device tokens that cannot outlive what ends a sign-in, and sign-outs that end their access tokens at once: each
 * `it` below reproduces a way around the walls that worked before.
 */

type Pair = { access_token: string; refresh_token: string; device_token: string; user: { id: string } };

const MAX = Number(env.LOGIN_MAX_FAILURES);
let octet = 0;
/** A distinct client address per call, so only the per-account limits are in play. */
const address = () => `198.18.${100 + Math.floor(++octet / 250)}.${octet % 250}`;

function login(json: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api("/auth/login", { method: "POST", json, headers: { "cf-connecting-ip": address(), ...headers } });
}

async function signIn(email: string, password: string): Promise<Pair> {
  const res = await login({ email, password });
  expect(res.status).toBe(200);
  return (await res.json()) as Pair;
}

/** Locks the account for anyone without a device token: MAX + 1 wrong guesses from different addresses. */
async function lock(email: string) {
  for (let i = 0; i <= MAX; i++) await login({ email, password: `attacker guess ${i}` });
  await expectProblem(await login({ email, password: "still locked, whatever the password" }), 429);
}

describe("device tokens are bound to the account and its token version", { timeout: 60_000 }, () => {
  it("the owner on a known device still signs in while the account is locked for strangers", async () => {
    const user = await createUser("member");
    const { device_token } = await signIn(user.email, user.password);
    await lock(user.email);
    expect((await login({ email: user.email, password: user.password, device_token })).status).toBe(200);
  });

  it("logout-all ends them: a device token from before no longer opens a locked account", async () => {
    const user = await createUser("member");
    const before = await signIn(user.email, user.password);
    expect((await api("/auth/logout-all", { method: "POST", token: before.access_token })).status).toBe(204);
    await lock(user.email);
    await expectProblem(
      await login({ email: user.email, password: user.password, device_token: before.device_token }),
      429,
    );
  });

  it("a password reset ends them (the squatter who signed in before the owner reset keeps nothing)", async () => {
    const box = inbox();
    const user = await createUser("member");
    const squatter = await signIn(user.email, user.password);
    expect(
      (
        await box.fetch("/auth/password/forgot", {
          method: "POST",
          json: { email: user.email },
          headers: { "cf-connecting-ip": address() },
        })
      ).status,
    ).toBe(202);
    await box.deliver();
    const token = box.tokenOf(user.email, RESET_SUBJECT);
    const reset = await box.fetch("/auth/password/reset", {
      method: "POST",
      json: { token, password: "the owner's new password" },
    });
    expect(reset.status).toBe(204);
    // The account is locked for strangers; the squatter's old device token no longer lets guesses through.
    await lock(user.email);
    await expectProblem(
      await login({ email: user.email, password: "guess", device_token: squatter.device_token }),
      429,
    );
  });

  it("four device tokens from four sign-ins give no more guesses than one (the 4 × 5 repro)", async () => {
    const user = await createUser("member");
    const devices: string[] = [];
    for (let i = 0; i < 4; i++) devices.push((await signIn(user.email, user.password)).device_token);
    let checked = 0;
    // Every way in: without a device token, and with each of the four, MAX + 1 guesses each, in one window.
    for (const device_token of [undefined, ...devices]) {
      for (let i = 0; i <= MAX; i++) {
        const res = await login({ email: user.email, password: `guess ${i}`, device_token });
        if (res.status === 401) checked += 1;
        else expect(res.status).toBe(429);
      }
    }
    // The account's own lane and one device lane for all its devices together; before, each device had its own.
    expect(checked).toBeLessThanOrEqual(2 * MAX);
  });

  it("an attempt with a device token still counts on the client's key", async () => {
    const user = await createUser("member");
    const { device_token } = await signIn(user.email, user.password);
    const ip = address();
    const clientCount = async () =>
      (await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?").bind(`ip:${ip}`).first<{ count: number }>())
        ?.count ?? 0;
    await expectProblem(
      await login({ email: user.email, password: "wrong", device_token }, { "cf-connecting-ip": ip }),
      401,
    );
    expect(await clientCount()).toBe(1);
  });
});

describe("a sign-out ends that sign-in's access token at once", { timeout: 60_000 }, () => {
  const createTask = (token: string) => api("/tasks", { method: "POST", token, json: { title: "after sign-out" } });

  it("POST /auth/logout: the access token of that sign-in is refused on /auth/me and POST /tasks", async () => {
    const user = await createUser("member");
    const kept = await signIn(user.email, user.password);
    const ended = await signIn(user.email, user.password);
    expect((await api("/auth/me", { token: ended.access_token })).status).toBe(200);
    const out = await api("/auth/logout", { method: "POST", json: { refresh_token: ended.refresh_token } });
    expect(out.status).toBe(204);
    await expectProblem(await api("/auth/me", { token: ended.access_token }), 401);
    await expectProblem(await createTask(ended.access_token), 401);
    // Another sign-in of the same user is untouched.
    expect((await api("/auth/me", { token: kept.access_token })).status).toBe(200);
    expect((await createTask(kept.access_token)).status).toBe(201);
  });

  it("a reused refresh token ends the family, and with it the thief's fresh access token", async () => {
    const user = await createUser("member");
    const victim = await signIn(user.email, user.password);
    // The thief rotates the stolen refresh token first and holds a fresh pair.
    const stolen = await api("/auth/refresh", { method: "POST", json: { refresh_token: victim.refresh_token } });
    expect(stolen.status).toBe(200);
    const thief = (await stolen.json()) as Pair;
    expect((await api("/auth/me", { token: thief.access_token })).status).toBe(200);
    // The victim's client presents the same (now used) token: reuse.
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: victim.refresh_token } }),
      401,
    );
    await expectProblem(await api("/auth/me", { token: thief.access_token }), 401);
    await expectProblem(await createTask(thief.access_token), 401);
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: thief.refresh_token } }),
      401,
    );
  });

  it("a long-lived sliding sign-in keeps working when a later sign-in clears expired refresh rows", async () => {
    const user = await createUser("member");
    const first = await signIn(user.email, user.password);
    // Thirty-odd days of use: the family's first row is long expired, its current one fresh.
    await env.DB.prepare(
      "UPDATE refresh_tokens SET created_at = created_at - ?1, expires_at = expires_at - ?1 WHERE user_id = ?2",
    )
      .bind(40 * 86_400_000, user.id)
      .run();
    const rotated = await api("/auth/refresh", { method: "POST", json: { refresh_token: first.refresh_token } });
    // The first row is expired: the family ends like any idle one...
    expect(rotated.status).toBe(401);
    // ...so slide it properly: a fresh sign-in, rotated once, then its parent row aged past expiry.
    const second = await signIn(user.email, user.password);
    const slid = await api("/auth/refresh", { method: "POST", json: { refresh_token: second.refresh_token } });
    expect(slid.status).toBe(200);
    const current = (await slid.json()) as Pair;
    await env.DB.prepare("UPDATE refresh_tokens SET expires_at = ?1 WHERE user_id = ?2 AND used_at IS NOT NULL")
      .bind(Date.now() - 1, user.id)
      .run();
    // Another sign-in deletes the user's expired rows; the sliding family's check still finds its live row.
    await signIn(user.email, user.password);
    expect((await api("/auth/me", { token: current.access_token })).status).toBe(200);
    expect((await createTask(current.access_token)).status).toBe(201);
  });
});
