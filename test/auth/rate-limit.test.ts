import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADDRESS_FACTOR,
  countAttempt,
  limits,
  PRUNE_AFTER_MS,
  PRUNE_PAGE_ROWS,
  takeAttempt,
  windowDecision,
} from "../../src/auth/rate-limit";
import { getDb } from "../../src/db/client";
import { ApiError } from "../../src/lib/errors";
import { api } from "../helpers";

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

describe("every key in one place", () => {
  it("follows LOGIN_MAX_FAILURES and LOGIN_WINDOW_SECONDS; a client gets ADDRESS_FACTOR times an account's", () => {
    const custom = { LOGIN_MAX_FAILURES: "10", LOGIN_WINDOW_SECONDS: "60" };
    expect(limits.signInAccount(custom, "a@b.co")).toEqual({ key: "acct:a@b.co", max: 10, windowMs: 60_000 });
    expect(limits.signInClient(custom, "198.51.100.7")).toEqual({
      key: "ip:198.51.100.7",
      max: 10 * ADDRESS_FACTOR,
      windowMs: 60_000,
    });
  });

  it("gives every kind of counter its own key space, so no limit spends another's allowance", () => {
    const id = "same";
    const keys = [
      limits.signInAccount(env, id),
      limits.signInDevices(env, id),
      limits.signInClient(env, id),
      limits.passwordChange(env, id),
      limits.signUpClient(env, id),
      limits.signUpAll(),
      limits.accountCreation(id),
      limits.forgot(id),
      limits.resend(env, id),
      limits.exports({ userId: id }),
      limits.exports({ client: id }),
    ].map((limit) => limit.key);
    expect(new Set(keys).size).toBe(keys.length);
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

  it("rows idle for a day are dropped by the next counted attempt, a page at a time; live ones stay", async () => {
    const db = getDb(env.DB);
    const now = Date.now();
    const idle = Array.from({ length: PRUNE_PAGE_ROWS + 5 }, (_, i) => `idle:${i}:${crypto.randomUUID()}`);
    const live = `live:${crypto.randomUUID()}`;
    await env.DB.batch([
      ...idle.map((key, i) =>
        env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 3)").bind(
          key,
          now - PRUNE_AFTER_MS - 1000 - i,
        ),
      ),
      env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 3)").bind(live, now - 60_000),
    ]);
    const left = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM rate_limits WHERE key LIKE 'idle:%'").first<{ n: number }>())?.n;
    await countAttempt(db, [{ key: `new:${crypto.randomUUID()}`, max: 1, windowMs: 1000 }], now);
    expect(await left()).toBe(5);
    await countAttempt(db, [{ key: `new:${crypto.randomUUID()}`, max: 1, windowMs: 1000 }], now);
    expect(await left()).toBe(0);
    expect(await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?").bind(live).first()).toEqual({
      count: 3,
    });
  });
});

describe("what one client can add to rate_limits", { timeout: 60_000 }, () => {
  it(`a client spraying sign-ins over many addresses adds at most ${5 * ADDRESS_FACTOR} account rows a window`, async () => {
    const ip = "198.51.100.250";
    const emails = Array.from({ length: 30 }, () => `spray-${crypto.randomUUID().slice(0, 8)}@example.com`);
    await Promise.all(
      emails.map((email) =>
        api("/auth/login", { method: "POST", json: { email, password: "guess" }, headers: { "cf-connecting-ip": ip } }),
      ),
    );
    const placeholders = emails.map(() => "?").join(", ");
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM rate_limits WHERE key IN (${placeholders})`)
      .bind(...emails.map((email) => limits.signInAccount(env, email).key))
      .first<{ n: number }>();
    expect(row?.n).toBe(limits.signInClient(env, ip).max);
  });
});
