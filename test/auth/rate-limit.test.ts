import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_FACTOR,
  countAttempt,
  loginAttemptLimits,
  loginKeys,
  loginLimits,
  takeAttempt,
  windowDecision,
} from "../../src/auth/rate-limit";
import { getDb } from "../../src/db/client";
import { ApiError } from "../../src/lib/errors";

describe("windowDecision (fixed windows, read back after counting)", () => {
  const windowMs = 60_000;
  it.each([
    ["no counter", undefined, 10_000, { blocked: false, retryAfter: 0 }],
    ["within the limit", { windowStart: 0, count: 5 }, 10_000, { blocked: false, retryAfter: 0 }],
    [
      "one over the limit, rounded up to whole seconds",
      { windowStart: 0, count: 6 },
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
    expect(() => loginLimits({ ...env, LOGIN_MAX_FAILURES: "", LOGIN_WINDOW_SECONDS: "nope" })).toThrow("LOGIN_WINDOW");
  });

  it("keys per address and account; with a device token only the device's own key", () => {
    const keys = loginKeys("a@b.co", "198.51.100.7");
    expect(keys).toEqual({ account: "acct:a@b.co", address: "ip:198.51.100.7" });
    expect(loginKeys("a@b.co", undefined)).toEqual({ account: "acct:a@b.co", address: null });
    const limits = { maxFailures: 5, windowMs: 1000 };
    expect(loginAttemptLimits(keys, limits, null)).toEqual([
      { key: "ip:198.51.100.7", max: 5 * ADDRESS_FACTOR, windowMs: 1000 },
      { key: "acct:a@b.co", max: 5, windowMs: 1000 },
    ]);
    expect(loginAttemptLimits(keys, limits, "jti-1")).toEqual([{ key: "dev:jti-1", max: 5, windowMs: 1000 }]);
  });
});

describe("counters in D1", () => {
  it("counts every attempt, blocks past the limit with Retry-After, and a new window starts from one", async () => {
    const db = getDb(env.DB);
    const limit = { key: `k:${crypto.randomUUID()}`, max: 2, windowMs: 60_000 };
    const t0 = Date.now();
    await takeAttempt(db, [limit], t0, "x");
    await takeAttempt(db, [limit], t0 + 1, "x");
    const error = (await takeAttempt(db, [limit], t0 + 2, "x").catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(429);
    expect(error.options.headers).toEqual({ "Retry-After": "60" });

    const t1 = t0 + 60_000;
    expect(await countAttempt(db, [limit], t1)).toBe(0);
    const row = await env.DB.prepare("SELECT window_start, count FROM rate_limits WHERE key = ?")
      .bind(limit.key)
      .first();
    expect(row).toEqual({ window_start: t1, count: 1 });
  });

  it("holds under concurrency: of 30 parallel attempts exactly max are allowed", async () => {
    const db = getDb(env.DB);
    const limit = { key: `k:${crypto.randomUUID()}`, max: 5, windowMs: 60_000 };
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 30 }, () => countAttempt(db, [limit], now)));
    expect(results.filter((r) => r === 0)).toHaveLength(5);
    const row = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?").bind(limit.key).first();
    expect(row).toEqual({ count: 30 });
  });

  it("a key after a blocked one is not counted", async () => {
    const db = getDb(env.DB);
    const first = { key: `a:${crypto.randomUUID()}`, max: 1, windowMs: 60_000 };
    const second = { key: `b:${crypto.randomUUID()}`, max: 5, windowMs: 60_000 };
    const now = Date.now();
    expect(await countAttempt(db, [first, second], now)).toBe(0);
    expect(await countAttempt(db, [first, second], now)).toBeGreaterThan(0);
    const row = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?").bind(second.key).first();
    expect(row).toEqual({ count: 1 });
  });

  it("rows idle for a day are dropped by the next counted attempt", async () => {
    const db = getDb(env.DB);
    const old = `old:${crypto.randomUUID()}`;
    const now = Date.now();
    await env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 3)")
      .bind(old, now - 25 * 60 * 60 * 1000)
      .run();
    await countAttempt(db, [{ key: `new:${crypto.randomUUID()}`, max: 1, windowMs: 1000 }], now);
    expect(await env.DB.prepare("SELECT 1 FROM rate_limits WHERE key = ?").bind(old).first()).toBeNull();
  });
});
