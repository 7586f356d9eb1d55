import { eq, inArray, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";
import { ApiError } from "../lib/errors";
import { settings } from "../lib/settings";

/**
 * Fixed-window counters in the `rate_limits` table, one row per key (`acct:<email>`, `ip:<client>`, `dev:<device>`,
 * `signup:<client>`, `mail:<address>` …).
 *
 * An attempt is counted BEFORE the work it guards (the password check, the sign-up, the mail), by one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING count` per key inside one db.batch(). D1 applies writes one at a time,
 * so N parallel attempts read back the counts 1…N and only those within the limit go on: the limit holds whatever
 * the concurrency (the old check-then-count let a burst through while scrypt ran). A window starts at a key's first
 * attempt and lasts its window length; the first attempt after it starts a new window at one.
 */
export const ADDRESS_FACTOR = 4;

/**
 * Rows untouched for this long (longer than any window in use) are dropped: up to PRUNE_PAGE_ROWS by each counted
 * attempt, oldest first through the window_start index, and the rest by the daily cron (src/cron/prune-processed.ts).
 * An attempt adds at most a few rows and removes up to a page, so idle rows cannot pile up while attempts come in.
 */
export const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
export const PRUNE_PAGE_ROWS = 100;

export type Limit = { key: string; max: number; windowMs: number };
export type Counter = { windowStart: number; count: number };

export type LoginLimits = { maxFailures: number; windowMs: number };

export function loginLimits(env: Env): LoginLimits {
  return {
    maxFailures: settings(env).loginMaxFailures,
    windowMs: settings(env).loginWindowSeconds * 1000,
  };
}

/** Pure: whether a counter read back after counting blocks at `now`, and the Retry-After in whole seconds. */
export function windowDecision(counter: Counter | undefined, now: number, max: number, windowMs: number) {
  if (!counter) return { blocked: false, retryAfter: 0 };
  const endsAt = counter.windowStart + windowMs;
  if (now >= endsAt || counter.count <= max) return { blocked: false, retryAfter: 0 };
  return { blocked: true, retryAfter: Math.max(1, Math.ceil((endsAt - now) / 1000)) };
}

/**
 * One attempt on `limit`, as `INSERT … SELECT … WHERE guard ON CONFLICT DO UPDATE … RETURNING`. The guard skips the
 * count (no row is returned) while any of the keys counted before it in the same batch is over its limit.
 */
function hit(db: Db, limit: Limit, now: number, before: Limit[]) {
  const start = now - limit.windowMs;
  const guard =
    before.length === 0
      ? sql`WHERE true`
      : sql`WHERE NOT EXISTS (SELECT 1 FROM rate_limits WHERE ${sql.join(
          before.map((b) => sql`(key = ${b.key} AND count > ${b.max} AND window_start > ${now - b.windowMs})`),
          sql` OR `,
        )})`;
  const expired = sql`${rateLimits.windowStart} <= ${start}`;
  return (
    db
      .insert(rateLimits)
      // An INSERT … SELECT needs its WHERE before ON CONFLICT (SQLite's parsing rule); the guard always is one.
      .select(sql`SELECT ${limit.key}, ${now}, 1 ${guard}`)
      .onConflictDoUpdate({
        target: rateLimits.key,
        // SQLite evaluates every SET expression against the row as it was, so both CASEs see the old window_start.
        set: {
          count: sql`CASE WHEN ${expired} THEN 1 ELSE ${rateLimits.count} + 1 END`,
          windowStart: sql`CASE WHEN ${expired} THEN ${now} ELSE ${rateLimits.windowStart} END`,
        },
      })
      .returning({ windowStart: rateLimits.windowStart, count: rateLimits.count })
  );
}

/**
 * Counts one attempt on each key, in one batch (one round trip, one transaction), and returns the Retry-After of
 * the first key now over its limit (0: allowed). Keys after a blocked one are not counted: an attempt refused for
 * its address does not also use up the allowance of the account it tried. The batch also drops a page of rows idle
 * for a day, which keeps the table bounded.
 */
export async function countAttempt(db: Db, limits: Limit[], now: number): Promise<number> {
  const [first, ...rest] = limits;
  if (!first) return 0;
  const results = await db.batch([
    hit(db, first, now, []),
    ...rest.map((limit, i) => hit(db, limit, now, limits.slice(0, i + 1))),
    db.delete(rateLimits).where(
      inArray(
        rateLimits.key,
        db
          .select({ key: rateLimits.key })
          .from(rateLimits)
          .where(lte(rateLimits.windowStart, now - PRUNE_AFTER_MS))
          .limit(PRUNE_PAGE_ROWS),
      ),
    ),
  ]);
  for (const [i, limit] of limits.entries()) {
    const [counter] = results[i] as Counter[];
    const decision = windowDecision(counter, now, limit.max, limit.windowMs);
    if (decision.blocked) return decision.retryAfter;
  }
  return 0;
}

/** Counts the attempt; a 429 with Retry-After when any key is over its limit. */
export async function takeAttempt(db: Db, limits: Limit[], now: number, what: string): Promise<void> {
  const retryAfter = await countAttempt(db, limits, now);
  if (retryAfter > 0) {
    throw new ApiError("rate_limited", `${what}; try again in ${retryAfter} seconds.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

/** SIGNUP_MAX_PER_ADDRESS per SIGNUP_WINDOW_SECONDS, one counter per client and per kind (sign-up, admin creation). */
export function creationLimit(env: Env, kind: "signup" | "create", client: string) {
  return {
    key: `${kind}:${client}`,
    max: settings(env).signupMaxPerAddress,
    windowMs: settings(env).signupWindowSeconds * 1000,
  };
}

export type LoginKeys = { account: string; address: string | null };

export function loginKeys(email: string, client: string | undefined | null): LoginKeys {
  return { account: `acct:${email}`, address: client ? `ip:${client}` : null };
}

/**
 * The keys a sign-in attempt counts on. With a valid device token for the account (OWASP device cookies) only that
 * device's own key: someone else's failures never lock the owner out, and guesses from a stolen-but-valid device
 * token are still limited. Without one: the account and the client address (an address gets ADDRESS_FACTOR times
 * the account's allowance, since an office behind one NAT shares it).
 */
export function loginAttemptLimits(keys: LoginKeys, limits: LoginLimits, device: string | null): Limit[] {
  const { maxFailures: max, windowMs } = limits;
  if (device) return [{ key: `dev:${device}`, max, windowMs }];
  // The address first: a spray already stopped at its address does not count against the accounts it tries.
  const out: Limit[] = [];
  if (keys.address) out.push({ key: keys.address, max: max * ADDRESS_FACTOR, windowMs });
  out.push({ key: keys.account, max, windowMs });
  return out;
}

/**
 * After a successful sign-in, statements for the caller's db.batch(): the account's (or device's) counter is cleared
 * and the address gets back the one attempt this was (not more: one good password must not unlock a spray).
 */
export function clearAfterSuccess(db: Db, keys: LoginKeys, device: string | null) {
  const clear = db.delete(rateLimits).where(eq(rateLimits.key, device ? `dev:${device}` : keys.account));
  if (device || !keys.address) return [clear] as const;
  const refund = db
    .update(rateLimits)
    .set({ count: sql`max(${rateLimits.count} - 1, 0)` })
    .where(eq(rateLimits.key, keys.address));
  return [clear, refund] as const;
}
