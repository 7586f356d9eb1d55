import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_FACTOR,
  assertLoginAllowed,
  loginKeys,
  loginLimits,
  recordLoginFailure,
  windowDecision,
} from "../../src/auth/rate-limit";
import { getDb } from "../../src/db/client";
import { ApiError } from "../../src/lib/errors";

describe("windowDecision (fixed windows)", () => {
  const windowMs = 60_000;
  it.each([
    ["no counter", undefined, 10_000, { blocked: false, retryAfter: 0 }],
    ["under the limit", { windowStart: 0, count: 4 }, 10_000, { blocked: false, retryAfter: 0 }],
    [
      "at the limit, rounded up to whole seconds",
      { windowStart: 0, count: 5 },
      10_500,
      { blocked: true, retryAfter: 50 },
    ],
    ["over the limit, last millisecond", { windowStart: 0, count: 9 }, 59_999, { blocked: true, retryAfter: 1 }],
    ["window over", { windowStart: 0, count: 9 }, 60_000, { blocked: false, retryAfter: 0 }],
  ] as const)("%s", (_label, counter, now, expected) => {
    expect(windowDecision(counter, now, 5, windowMs)).toEqual(expected);
  });
});

describe("configuration", () => {
  it("reads LOGIN_MAX_FAILURES and LOGIN_WINDOW_SECONDS, with safe fallbacks", () => {
    expect(loginLimits(env)).toEqual({ maxFailures: 5, windowMs: 900_000 });
    expect(loginLimits({ ...env, LOGIN_MAX_FAILURES: "10", LOGIN_WINDOW_SECONDS: "60" })).toEqual({
      maxFailures: 10,
      windowMs: 60_000,
    });
    expect(loginLimits({ ...env, LOGIN_MAX_FAILURES: "", LOGIN_WINDOW_SECONDS: "nope" })).toEqual({
      maxFailures: 5,
      windowMs: 900_000,
    });
  });

  it("keys per account and per address; no address, no address key", () => {
    expect(loginKeys("a@b.co", "198.51.100.7")).toEqual({ account: "acct:a@b.co", address: "ip:198.51.100.7" });
    expect(loginKeys("a@b.co", undefined)).toEqual({ account: "acct:a@b.co", address: null });
  });
});

describe("counters in D1", () => {
  const limits = { maxFailures: 2, windowMs: 60_000 };

  it("counts failures per key, blocks at the limit, and a new window starts from one", async () => {
    const db = getDb(env.DB);
    const keys = loginKeys(`${crypto.randomUUID()}@x.co`, crypto.randomUUID());
    const t0 = 5_000_000;
    await recordLoginFailure(db, keys, limits, t0);
    await assertLoginAllowed(db, keys, limits, t0 + 1);
    await recordLoginFailure(db, keys, limits, t0 + 2);
    const error = (await assertLoginAllowed(db, keys, limits, t0 + 3).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(429);
    expect(error.options.headers).toEqual({ "Retry-After": "60" });

    // After the window: the expired rows are pruned by the next failure and counting restarts at one.
    const t1 = t0 + 60_000;
    await assertLoginAllowed(db, keys, limits, t1);
    await recordLoginFailure(db, keys, limits, t1);
    const row = await env.DB.prepare("SELECT window_start, count FROM rate_limits WHERE key = ?")
      .bind(keys.account)
      .first();
    expect(row).toEqual({ window_start: t1, count: 1 });
  });

  it(`the address allows ${ADDRESS_FACTOR}x the account limit`, async () => {
    const db = getDb(env.DB);
    const ip = crypto.randomUUID();
    const t0 = 9_000_000;
    for (let i = 0; i < limits.maxFailures * ADDRESS_FACTOR - 1; i++) {
      await recordLoginFailure(db, loginKeys(`${i}-${ip}@x.co`, ip), limits, t0);
    }
    await assertLoginAllowed(db, loginKeys(`fresh-${ip}@x.co`, ip), limits, t0);
    await recordLoginFailure(db, loginKeys(`last-${ip}@x.co`, ip), limits, t0);
    await expect(assertLoginAllowed(db, loginKeys(`fresh-${ip}@x.co`, ip), limits, t0)).rejects.toBeInstanceOf(
      ApiError,
    );
  });
});
