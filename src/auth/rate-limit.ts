import { eq, inArray, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";
import { ApiError } from "../lib/errors";
import { EXPORT_MAX_PER_WINDOW, EXPORT_WINDOW_SECONDS } from "../lib/export-limits";
import { type SettingsSource, settings } from "../lib/settings";

/**
 * Fixed-window counters in the `rate_limits` table, one row per key. Every key the app counts on is built by
 * {@link limits} below, with its maximum and window, and nowhere else.
 *
 * An attempt is counted BEFORE the work it guards (the password check, the sign-up, the mail), by one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING count` per key inside one db.batch(). D1 applies writes one at a time,
 * so N parallel attempts read back the counts 1…N and only those within the limit go on: the limit holds whatever
 * the concurrency. A window starts at a key's first attempt and lasts its window length; the first attempt after it
 * starts a new window at one.
 */
export const ADDRESS_FACTOR = 4;

/**
 * Rows untouched for this long (longer than any window in use) are dropped: up to PRUNE_PAGE_ROWS by each counted
 * attempt, oldest first through the window_start index, and the rest by the daily cron (src/cron/prune-processed.ts).
 * An attempt adds at most a few rows and removes up to a page, so idle rows cannot pile up while attempts come in.
 */
export const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
export const PRUNE_PAGE_ROWS = 100;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Accounts one admin may create a day: a real onboarding never reaches it, a stolen admin token stops there. */
export const ADMIN_CREATIONS_PER_DAY = 200;
/** Self-service sign-ups a day from all clients together, so open sign-up cannot fill `users` from many addresses. */
export const SIGNUPS_PER_DAY = 1_000;
/** Forgot-password requests per client address: what a person retrying never needs. */
export const FORGOT_PER_CLIENT = 20;
export const FORGOT_WINDOW_MS = 15 * MINUTE;

export type Limit = { key: string; max: number; windowMs: number };
export type Counter = { windowStart: number; count: number };

const loginWindow = (env: SettingsSource) => settings(env).loginWindowSeconds * 1000;

/** Every counter the app keeps: its key, its maximum and its window (LOGIN_*, SIGNUP_*, ACCOUNT_MAIL_* settings). */
export const limits = {
  /** Password attempts on one account without a device token (LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS). */
  signInAccount: (env: SettingsSource, email: string): Limit => ({
    key: `acct:${email}`,
    max: settings(env).loginMaxFailures,
    windowMs: loginWindow(env),
  }),
  /** Password attempts on one account made with its device tokens, all devices together (the same figures). */
  signInDevices: (env: SettingsSource, userId: string): Limit => ({
    key: `devices:${userId}`,
    max: settings(env).loginMaxFailures,
    windowMs: loginWindow(env),
  }),
  /** Password attempts from one client, on any accounts: ADDRESS_FACTOR times an account's (an office shares one). */
  signInClient: (env: SettingsSource, client: string): Limit => ({
    key: `ip:${client}`,
    max: settings(env).loginMaxFailures * ADDRESS_FACTOR,
    windowMs: loginWindow(env),
  }),
  /** Current-password checks of one signed-in user (a stolen access token must not be a password oracle). */
  passwordChange: (env: SettingsSource, userId: string): Limit => ({
    key: `pwchange:${userId}`,
    max: settings(env).loginMaxFailures,
    windowMs: loginWindow(env),
  }),
  /** Sign-ups from one client (SIGNUP_MAX_PER_ADDRESS per SIGNUP_WINDOW_SECONDS). */
  signUpClient: (env: SettingsSource, client: string): Limit => ({
    key: `signup:${client}`,
    max: settings(env).signupMaxPerAddress,
    windowMs: settings(env).signupWindowSeconds * 1000,
  }),
  /** Sign-ups from everyone together, a day. */
  signUpAll: (): Limit => ({ key: "signup:*", max: SIGNUPS_PER_DAY, windowMs: DAY }),
  /** Accounts one admin creates (POST /users), a day: admins are signed in and accountable, so counted per admin. */
  accountCreation: (adminId: string): Limit => ({
    key: `create:${adminId}`,
    max: ADMIN_CREATIONS_PER_DAY,
    windowMs: DAY,
  }),
  /** Forgot-password requests from one client. */
  forgot: (client: string): Limit => ({ key: `forgot:${client}`, max: FORGOT_PER_CLIENT, windowMs: FORGOT_WINDOW_MS }),
  /** CSV exports by one signed-in user, or by one anonymous client (the catalog's export is public). */
  exports: (who: { userId: string } | { client: string }): Limit => ({
    key: "userId" in who ? `export:user:${who.userId}` : `export:client:${who.client}`,
    max: EXPORT_MAX_PER_WINDOW,
    windowMs: EXPORT_WINDOW_SECONDS * 1000,
  }),
  /** Verification mails the signed-in owner asks for again (ACCOUNT_MAIL_MAX_PER_HOUR), a budget of its own. */
  resend: (env: SettingsSource, userId: string): Limit => ({
    key: `resend:${userId}`,
    max: settings(env).accountMailMaxPerHour,
    windowMs: HOUR,
  }),
};

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
 * its client does not also use up the allowance of the account it tried. The batch also drops a page of rows idle
 * for a day, which keeps the table bounded.
 */
export async function countAttempt(db: Db, counted: Limit[], now: number): Promise<number> {
  const [first, ...rest] = counted;
  if (!first) return 0;
  const results = await db.batch([
    hit(db, first, now, []),
    ...rest.map((limit, i) => hit(db, limit, now, counted.slice(0, i + 1))),
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
  for (const [i, limit] of counted.entries()) {
    const [counter] = results[i] as Counter[];
    const decision = windowDecision(counter, now, limit.max, limit.windowMs);
    if (decision.blocked) return decision.retryAfter;
  }
  return 0;
}

/** Counts the attempt; a 429 with Retry-After when any key is over its limit. */
export async function takeAttempt(db: Db, counted: Limit[], now: number, what: string): Promise<void> {
  const retryAfter = await countAttempt(db, counted, now);
  if (retryAfter > 0) {
    throw new ApiError("rate_limited", `${what}; try again in ${retryAfter} seconds.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

/** A statement for the caller's batch that forgets a counter (a success ends the failures it counted). */
export function clearCounter(db: Db, limit: Limit) {
  return db.delete(rateLimits).where(eq(rateLimits.key, limit.key));
}

/** A statement for the caller's batch that gives back the one attempt a success was (never below zero). */
export function refundAttempt(db: Db, limit: Limit) {
  return db
    .update(rateLimits)
    .set({ count: sql`max(${rateLimits.count} - 1, 0)` })
    .where(eq(rateLimits.key, limit.key));
}
