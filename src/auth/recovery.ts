import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../lib/errors";
import { claimAccountToken, peekAccountToken, retireAccountTokens } from "./account-tokens";
import { assertPasswordAllowed } from "./password-policy";
import { hashPassword, verifyPassword } from "./passwords";
import { clearCounter, limits, takeAttempt } from "./rate-limit";
import { revokeUserTokens, startFamily } from "./refresh";
import { handOut, type SignedIn, type UserRow } from "./sign-in";

/** Proving an address and choosing a password: verification, reset by mailed token, and change by the owner. */

export const INVALID_ACCOUNT_TOKEN = "The token is invalid, expired or already used; ask for a new mail.";

/** Spends a verification token and marks the address it was sent to verified (if the account still has it). */
export async function verifyEmail(db: Db, token: string, now: number): Promise<void> {
  const claimed = await claimAccountToken(db, token, "verify_email", now);
  if (!claimed) throw new ApiError("bad_request", INVALID_ACCOUNT_TOKEN);
  await db
    .update(users)
    .set({ emailVerifiedAt: now, updatedAt: now })
    .where(
      and(
        eq(users.id, claimed.userId),
        eq(users.email, claimed.email),
        isNull(users.deletedAt),
        isNull(users.emailVerifiedAt),
      ),
    );
}

/**
 * A new password: every sign-in ends (refresh tokens deleted) and every earlier access and device token with it (the
 * version goes up). The one set of statements for a reset, a change and a password an admin sets.
 */
export function passwordStatements(
  db: Db,
  userId: string,
  passwordHash: string,
  now: number,
  extra: Partial<UserRow> = {},
) {
  return [
    db
      .update(users)
      .set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now, ...extra })
      .where(and(eq(users.id, userId), isNull(users.deletedAt))),
    revokeUserTokens(db, userId),
  ] as const;
}

/**
 * A reset with a mailed token. The new password is checked before anything is spent or written (a refused password
 * leaves the token usable); the token is then spent by one conditional DELETE, so of two concurrent resets with it
 * exactly one goes on. The mail reached the owner, which proves the address too.
 */
export async function resetPassword(env: Env, db: Db, token: string, password: string, now: number): Promise<void> {
  const found = await peekAccountToken(db, token, "password_reset", now);
  if (!found) throw new ApiError("bad_request", INVALID_ACCOUNT_TOKEN);
  assertPasswordAllowed(password, found.user);
  const passwordHash = await hashPassword(password);
  const claimed = await claimAccountToken(db, token, "password_reset", now);
  if (!claimed) throw new ApiError("bad_request", INVALID_ACCOUNT_TOKEN);
  await db.batch([
    ...passwordStatements(db, claimed.userId, passwordHash, now, {
      emailVerifiedAt: found.user.emailVerifiedAt ?? now,
    }),
    retireAccountTokens(db, claimed.userId, "password_reset"),
    clearCounter(db, limits.signInAccount(env, claimed.email)),
  ]);
}

/**
 * The signed-in owner's password change: the current password checked (counted first, so a stolen access token is
 * no password oracle), every other sign-in ended, and a fresh sign-in (with a device token) for the caller.
 */
export async function changePassword(
  env: Env,
  db: Db,
  callerId: string,
  passwords: { current: string; next: string },
  now: number,
): Promise<SignedIn> {
  const attempts = limits.passwordChange(env, callerId);
  await takeAttempt(db, [attempts], now, "Too many password-change attempts");
  const [row] = await db.select().from(users).where(eq(users.id, callerId)).limit(1);
  if (!row || !(await verifyPassword(passwords.current, row.passwordHash))) {
    throw new ApiError("forbidden", "The current password is wrong.");
  }
  assertPasswordAllowed(passwords.next, row, "new_password");
  const passwordHash = await hashPassword(passwords.next);
  const { issued, statements } = await startFamily(db, env, row.id, now);
  // The batch runs in order: every sign-in ends, then the caller's new one starts.
  await db.batch([...passwordStatements(db, row.id, passwordHash, now), ...statements, clearCounter(db, attempts)]);
  return handOut(env, { ...row, passwordHash, tokenVersion: row.tokenVersion + 1, updatedAt: now }, issued, now, true);
}
