import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../lib/errors";
import { settings } from "../lib/settings";
import { sendQueued } from "../mail/enqueue";
import { accountMailPlan } from "./account-mail";
import {
  assertAvailable,
  conflict,
  ensureSuperuser,
  superuserEmail,
  uniqueUsername,
  uniqueViolation,
} from "./accounts";
import { deviceClaims, isKnownDevice, issueDeviceToken } from "./device";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "./passwords";
import { clearCounter, limits, refundAttempt, takeAttempt } from "./rate-limit";
import {
  endFamily,
  type IssuedRefreshToken,
  revokeFamilyOf,
  revokeUserTokens,
  rotateRefreshToken,
  startFamily,
} from "./refresh";
import { signAccessToken, verifyAccessToken } from "./tokens";

/**
 * Signing in and out: what every route that starts, renews or ends a sign-in calls, whether it answers a Bearer
 * client (a token pair in JSON) or the console (the same tokens in cookies). A sign-in is a refresh family; its id is
 * the `sid` of its access tokens, so ending it ends them at once.
 */

export type UserRow = typeof users.$inferSelect;

/** A sign-in as handed out: the user, its access and refresh tokens and their lifetimes, and after a password a device token. */
export type SignedIn = {
  user: UserRow;
  accessToken: string;
  accessExpiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  deviceToken?: string;
};

/** The tokens of a sign-in whose refresh token was just issued; `withDevice` after a proven password. */
export async function handOut(
  env: Env,
  user: UserRow,
  refresh: IssuedRefreshToken,
  now: number,
  withDevice: boolean,
): Promise<SignedIn> {
  return {
    user,
    accessToken: await signAccessToken(env, user, now, refresh.familyId),
    accessExpiresIn: settings(env).accessTokenTtlSeconds,
    refreshToken: refresh.token,
    refreshExpiresIn: Math.round((refresh.expiresAt - now) / 1000),
    deviceToken: withDevice ? await issueDeviceToken(env, user, now) : undefined,
  };
}

export function liveUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .select()
    .from(users)
    .where(and(eq(users.email, email), isNull(users.deletedAt)))
    .limit(1)
    .then((rows) => rows[0]);
}

export const BAD_CREDENTIALS = "Invalid email or password.";

/**
 * Email and password. Every attempt is counted before any password is checked, atomically: of N parallel guesses
 * at most LOGIN_MAX_FAILURES reach scrypt. The client's key first (an attempt it refuses counts nowhere else), then
 * the account's lock, or, with a device token of this account at its current token version, the account's device
 * budget instead: nobody else's failures lock the owner out, and device tokens (however many sign-ins minted them)
 * share one budget. An unknown email costs the same reads, count and scrypt as a wrong password, and gets the same
 * 401. Three round trips: the account, the count, the sign-in's batch.
 */
export async function signInWithPassword(
  env: Env,
  db: Db,
  input: { email: string; password: string; deviceToken: string | undefined; client: string },
  now: number,
): Promise<SignedIn> {
  const device = await deviceClaims(env, input.deviceToken);
  let user = await liveUserByEmail(db, input.email);
  const counted = [
    limits.signInClient(env, input.client),
    isKnownDevice(device, user) ? limits.signInDevices(env, user!.id) : limits.signInAccount(env, input.email),
  ];
  await takeAttempt(db, counted, now, "Too many sign-in attempts");
  if (!user && input.email === superuserEmail(env) && (await ensureSuperuser(db, env, now))) {
    user = await liveUserByEmail(db, input.email);
  }
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok) throw new ApiError("unauthorized", BAD_CREDENTIALS);

  const { issued, statements } = await startFamily(db, env, user.id, now);
  const upgrade = needsRehash(user.passwordHash)
    ? [
        db
          .update(users)
          .set({ passwordHash: await hashPassword(input.password) })
          .where(eq(users.id, user.id)),
      ]
    : [];
  // The lane's failures are forgotten; the client gets back the one attempt this was (one good password must not
  // unlock a spray).
  await db.batch([...statements, ...upgrade, clearCounter(db, counted[1]!), refundAttempt(db, counted[0]!)]);
  return handOut(env, user, issued, now, true);
}

/**
 * A new member with an unverified address, signed in, its verification mail on its way. Counted per client and in
 * all before the hash and the insert; a refused (409) sign-up is not counted, so it writes nothing.
 */
export async function registerMember(
  env: Env,
  db: Db,
  input: { email: string; password: string; username?: string },
  client: string,
  now: number,
): Promise<SignedIn> {
  await assertAvailable(db, env, { email: input.email, username: input.username });
  await takeAttempt(
    db,
    [limits.signUpClient(env, client), limits.signUpAll()],
    now,
    "Too many sign-ups from this address",
  );
  const user: UserRow = {
    id: crypto.randomUUID(),
    email: input.email,
    username: input.username ?? (await uniqueUsername(db, input.email)),
    passwordHash: await hashPassword(input.password),
    role: "member",
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    // Anyone can type any address: it counts only once the mailed token comes back.
    emailVerifiedAt: null,
    tokenVersion: 0,
  };
  const { issued, statements } = await startFamily(db, env, user.id, now);
  const mail = await accountMailPlan(db, env, user, "verify_email", now);
  try {
    // The user, its first sign-in, its verification token and mail together, or none of them.
    await db.batch([db.insert(users).values(user), ...statements, ...mail.statements]);
  } catch (error) {
    const field = uniqueViolation(error);
    if (field) throw conflict(field);
    throw error;
  }
  await sendQueued(env, mail.queueMessages);
  return handOut(env, user, issued, now, true);
}

/** A refresh token traded for the next one of its sign-in, with an access token of the user's current role. */
export async function rotateSignIn(env: Env, db: Db, presented: string, now: number): Promise<SignedIn> {
  const { user, issued } = await rotateRefreshToken(db, env, presented, now);
  return handOut(env, user, issued, now, false);
}

/** Ends the sign-in a refresh token belongs to (unknown tokens: nothing, RFC 7009). */
export async function endSignIn(db: Db, presented: string): Promise<void> {
  await revokeFamilyOf(db, presented);
}

/**
 * Ends the console's sign-in: the one its refresh token belongs to, or else the one its access token names (`sid`);
 * an access token that does not verify names none.
 */
export async function endConsoleSignIn(env: Env, db: Db, tokens: { refresh?: string; access?: string }): Promise<void> {
  if (tokens.refresh) return endSignIn(db, tokens.refresh);
  const claims = tokens.access ? await verifyAccessToken(env, tokens.access).catch(() => null) : null;
  if (claims?.sessionId) await endFamily(db, claims.sessionId);
}

/** Statements that end every sign-in and every access token of a user (the token version goes up). */
export function endEverySignIn(db: Db, userId: string, now: number) {
  return [
    db
      .update(users)
      .set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now })
      .where(eq(users.id, userId)),
    revokeUserTokens(db, userId),
  ] as const;
}
