import { eq, inArray, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";
import { intVar } from "../lib/config";
import { ApiError } from "../lib/errors";

/**
 * Login throttling with fixed windows in the `rate_limits` table: one counter per account (`acct:<email>`) and one
 * per client address (`ip:<CF-Connecting-IP>`). Only failures count. A window starts at the first failure and lasts
 * LOGIN_WINDOW_SECONDS; once a key has LOGIN_MAX_FAILURES failures in its window, every attempt on it is a 429 until
 * the window ends (checked before any password hashing, so a blocked attacker costs one indexed read). An address
 * gets ADDRESS_FACTOR times the account allowance, since an office behind one NAT shares it.
 *
 * The check and the increment are separate statements, so a burst of parallel attempts can overshoot the limit by
 * its concurrency; the DESIGN's alternative for exact counts is a Durable Object per key.
 */
export const ADDRESS_FACTOR = 4;

export type LoginLimits = { maxFailures: number; windowMs: number };

export function loginLimits(env: Env): LoginLimits {
  return {
    maxFailures: Math.max(1, intVar(env.LOGIN_MAX_FAILURES, 5)),
    windowMs: Math.max(1, intVar(env.LOGIN_WINDOW_SECONDS, 900)) * 1000,
  };
}

export type Counter = { windowStart: number; count: number };

/** Pure: whether a counter blocks at `now`, and for how many whole seconds (the Retry-After value). */
export function windowDecision(counter: Counter | undefined, now: number, max: number, windowMs: number) {
  if (!counter) return { blocked: false, retryAfter: 0 };
  const endsAt = counter.windowStart + windowMs;
  if (now >= endsAt || counter.count < max) return { blocked: false, retryAfter: 0 };
  return { blocked: true, retryAfter: Math.max(1, Math.ceil((endsAt - now) / 1000)) };
}

export type LoginKeys = { account: string; address: string | null };

export function loginKeys(email: string, address: string | undefined | null): LoginKeys {
  return { account: `acct:${email}`, address: address ? `ip:${address}` : null };
}

function keyLimits(keys: LoginKeys, limits: LoginLimits): [string, number][] {
  const out: [string, number][] = [[keys.account, limits.maxFailures]];
  if (keys.address) out.push([keys.address, limits.maxFailures * ADDRESS_FACTOR]);
  return out;
}

/** 429 with Retry-After when the account or the address is over its limit. */
export async function assertLoginAllowed(db: Db, keys: LoginKeys, limits: LoginLimits, now: number): Promise<void> {
  const wanted = keyLimits(keys, limits);
  const rows = await db
    .select()
    .from(rateLimits)
    .where(
      inArray(
        rateLimits.key,
        wanted.map(([key]) => key),
      ),
    );
  let retryAfter = 0;
  for (const [key, max] of wanted) {
    const decision = windowDecision(
      rows.find((row) => row.key === key),
      now,
      max,
      limits.windowMs,
    );
    retryAfter = Math.max(retryAfter, decision.blocked ? decision.retryAfter : 0);
  }
  if (retryAfter > 0) {
    throw new ApiError("rate_limited", `Too many failed sign-in attempts; try again in ${retryAfter} seconds.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

/**
 * Counts one failure on every key, in one batch that first drops every expired window (so the table holds only the
 * keys that failed within the last window, and any row left is inside its window).
 */
export async function recordLoginFailure(db: Db, keys: LoginKeys, limits: LoginLimits, now: number): Promise<void> {
  const increments = keyLimits(keys, limits).map(([key]) =>
    db
      .insert(rateLimits)
      .values({ key, windowStart: now, count: 1 })
      .onConflictDoUpdate({ target: rateLimits.key, set: { count: sql`${rateLimits.count} + 1` } }),
  );
  await db.batch([db.delete(rateLimits).where(lte(rateLimits.windowStart, now - limits.windowMs)), ...increments]);
}

/**
 * A successful sign-in clears the account's counter (not the address's: one good password must not unlock a spray).
 * A statement for the caller's db.batch(), so the sign-in costs no extra round trip for it.
 */
export function clearAccountFailures(db: Db, keys: LoginKeys) {
  return db.delete(rateLimits).where(eq(rateLimits.key, keys.account));
}
