import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Context } from "hono";
import { accountMailPlan, requestPasswordReset, sendVerificationMail } from "../../auth/account-mail";
import { claimAccountToken, peekAccountToken, retireAccountTokens } from "../../auth/account-tokens";
import {
  assertAvailable,
  conflict,
  ensureSuperuser,
  superuserEmail,
  toUser,
  uniqueUsername,
  uniqueViolation,
} from "../../auth/accounts";
import { clientKey } from "../../auth/client";
import { deviceFor, issueDeviceToken, presentedDeviceToken, setDeviceCookie } from "../../auth/device";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "../../auth/passwords";
import { clearCounter, limits, refundAttempt, takeAttempt } from "../../auth/rate-limit";
import {
  type IssuedRefreshToken,
  revokeFamilyOf,
  revokeUserTokens,
  rotateRefreshToken,
  startFamily,
} from "../../auth/refresh";
import { loadCaller } from "../../auth/require-auth";
import { accessTokenTtl, signAccessToken } from "../../auth/tokens";
import { type Db, getDb } from "../../db/client";
import { users } from "../../db/schema";
import type { AppEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import { sendQueued } from "../../mail/enqueue";
import type * as routes from "./auth.routes";

type UserRow = typeof users.$inferSelect;

async function tokenPair(
  env: Env,
  user: Pick<
    UserRow,
    "id" | "email" | "username" | "role" | "createdAt" | "updatedAt" | "emailVerifiedAt" | "tokenVersion"
  >,
  refresh: IssuedRefreshToken,
  now: number,
) {
  return {
    access_token: await signAccessToken(env, user, now),
    token_type: "Bearer" as const,
    expires_in: accessTokenTtl(env),
    refresh_token: refresh.token,
    refresh_expires_in: Math.round((refresh.expiresAt - now) / 1000),
    user: toUser(user),
  };
}

/** A pair plus a device token (in the body and as the HttpOnly cookie): for answers to a proven password. */
async function signedIn(c: Context<AppEnv>, user: UserRow, refresh: IssuedRefreshToken, now: number) {
  const device = await issueDeviceToken(c.env, user, now);
  setDeviceCookie(c, device);
  return { ...(await tokenPair(c.env, user, refresh, now)), device_token: device };
}

function liveUserBy(db: Db, where: ReturnType<typeof eq>) {
  return db
    .select()
    .from(users)
    .where(and(where, isNull(users.deletedAt)))
    .limit(1)
    .then((rows) => rows[0]);
}

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const db = getDb(c.env.DB);
  const now = Date.now();
  await assertAvailable(db, c.env, { email: body.email, username: body.username });
  // Counted before the hashing and the insert; a refused (409) sign-up is not counted, so it writes nothing.
  await takeAttempt(
    db,
    [limits.signUpClient(c.env, await clientKey(c)), limits.signUpAll()],
    now,
    "Too many sign-ups from this address",
  );
  const user: UserRow = {
    id: crypto.randomUUID(),
    email: body.email,
    username: body.username ?? (await uniqueUsername(db, body.email)),
    passwordHash: await hashPassword(body.password),
    role: "member",
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    // Anyone can type any address: it counts only once the mailed token comes back.
    emailVerifiedAt: null,
    tokenVersion: 0,
  };
  const { issued, statements } = await startFamily(db, c.env, user.id, now);
  const mail = await accountMailPlan(db, c.env, user, "verify_email", now);
  try {
    // The user, its first refresh token, its verification token and mail together, or none of them.
    await db.batch([db.insert(users).values(user), ...statements, ...mail.statements]);
  } catch (error) {
    const field = uniqueViolation(error);
    if (field) throw conflict(field);
    throw error;
  }
  await sendQueued(c.env, mail.queueMessages);
  c.header("Location", "/api/v1/auth/me");
  return c.json(await signedIn(c, user, issued, now), 201);
};

const BAD_CREDENTIALS = "Invalid email or password.";

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const { email, password, device_token } = c.req.valid("json");
  const db = getDb(c.env.DB);
  const client = await clientKey(c);
  const device = await deviceFor(c.env, presentedDeviceToken(c, device_token), email);
  const now = Date.now();
  const counted = device
    ? [{ ...limits.signInAccount(c.env, email), key: `dev:${device}` }]
    : [limits.signInClient(c.env, client), limits.signInAccount(c.env, email)];
  // Counted before any password is checked: of N parallel guesses, at most LOGIN_MAX_FAILURES reach scrypt.
  await takeAttempt(db, counted, now, "Too many sign-in attempts");

  let user = await liveUserBy(db, eq(users.email, email));
  if (!user && email === superuserEmail(c.env) && (await ensureSuperuser(db, c.env, now))) {
    user = await liveUserBy(db, eq(users.email, email));
  }
  // An unknown email costs the same scrypt work as a wrong password and gets the same answer.
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok) throw new ApiError("unauthorized", BAD_CREDENTIALS);

  const { issued, statements } = await startFamily(db, c.env, user.id, now);
  const upgrade = needsRehash(user.passwordHash)
    ? [
        db
          .update(users)
          .set({ passwordHash: await hashPassword(password) })
          .where(eq(users.id, user.id)),
      ]
    : [];
  const after = device
    ? [clearCounter(db, counted[0]!)]
    : [clearCounter(db, counted[1]!), refundAttempt(db, counted[0]!)];
  await db.batch([...statements, ...upgrade, ...after]);
  return c.json(await signedIn(c, user, issued, now), 200);
};

export const refresh: RouteHandler<typeof routes.refresh, AppEnv> = async (c) => {
  const { refresh_token } = c.req.valid("json");
  const db = getDb(c.env.DB);
  const now = Date.now();
  const { user, issued } = await rotateRefreshToken(db, c.env, refresh_token, now);
  return c.json(await tokenPair(c.env, user, issued, now), 200);
};

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  const { refresh_token } = c.req.valid("json");
  await revokeFamilyOf(getDb(c.env.DB), refresh_token, Date.now());
  return c.body(null, 204);
};

// The caller's row, read by requireUser's check in the same round trip: no second read.
export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => c.json(toUser(await loadCaller(c)), 200);

const INVALID_TOKEN = "The token is invalid, expired or already used; ask for a new mail.";

export const verifyEmail: RouteHandler<typeof routes.verifyEmail, AppEnv> = async (c) => {
  const { token } = c.req.valid("json");
  const db = getDb(c.env.DB);
  const now = Date.now();
  const claimed = await claimAccountToken(db, token, "verify_email", now);
  if (!claimed) throw new ApiError("bad_request", INVALID_TOKEN);
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
  return c.body(null, 204);
};

const MAIL_ON_ITS_WAY = "A mail is on its way.";

export const resendVerification: RouteHandler<typeof routes.resendVerification, AppEnv> = async (c) => {
  const user = c.get("user");
  if (user.emailVerifiedAt !== null) throw new ApiError("conflict", "The email address is already verified.");
  const now = Date.now();
  // The owner's own budget: nobody else's requests count on it.
  await takeAttempt(getDb(c.env.DB), [limits.resend(c.env, user.id)], now, "Too many verification mails asked for");
  await sendVerificationMail(c.env, user, now);
  return c.json({ message: MAIL_ON_ITS_WAY }, 202);
};

const FORGOT_ANSWER = "If that address has an account, a mail with a reset link is on its way.";

export const forgotPassword: RouteHandler<typeof routes.forgotPassword, AppEnv> = async (c) => {
  const { email } = c.req.valid("json");
  // Per client, alike for every address; the lookup and the mail happen off the request path (the mail consumer).
  await takeAttempt(
    getDb(c.env.DB),
    [limits.forgot(await clientKey(c))],
    Date.now(),
    "Too many password-reset requests",
  );
  await requestPasswordReset(c.env, email);
  return c.json({ message: FORGOT_ANSWER }, 202);
};

/** Validation failure on the password, in the same shape as the body validator's. */
function passwordProblem(message: string) {
  return new ApiError("validation_failed", "The request body is invalid.", { errors: [{ path: "password", message }] });
}

/** New password plus: every refresh token revoked, every earlier access token ended (version up). */
function passwordStatements(db: Db, userId: string, passwordHash: string, now: number, extra: Partial<UserRow> = {}) {
  return [
    db
      .update(users)
      .set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now, ...extra })
      .where(and(eq(users.id, userId), isNull(users.deletedAt))),
    revokeUserTokens(db, userId, now),
  ] as const;
}

export const resetPassword: RouteHandler<typeof routes.resetPassword, AppEnv> = async (c) => {
  const { token, password } = c.req.valid("json");
  const db = getDb(c.env.DB);
  const now = Date.now();
  // Checked before anything is spent or written: a refused password leaves the token usable.
  const found = await peekAccountToken(db, token, "password_reset", now);
  if (!found) throw new ApiError("bad_request", INVALID_TOKEN);
  const lower = password.toLowerCase();
  if (lower === found.user.email || lower === found.user.username) {
    throw passwordProblem("The password must not equal the email or username.");
  }
  const passwordHash = await hashPassword(password);
  // Spent by one conditional UPDATE: of two concurrent resets with one token, exactly one goes on.
  const claimed = await claimAccountToken(db, token, "password_reset", now);
  if (!claimed) throw new ApiError("bad_request", INVALID_TOKEN);
  await db.batch([
    // The mail reached the owner, which proves the address too.
    ...passwordStatements(db, claimed.userId, passwordHash, now, {
      emailVerifiedAt: found.user.emailVerifiedAt ?? now,
    }),
    retireAccountTokens(db, claimed.userId, "password_reset"),
    clearCounter(db, limits.signInAccount(c.env, claimed.email)),
  ]);
  return c.body(null, 204);
};

export const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
  const { current_password, new_password } = c.req.valid("json");
  const caller = c.get("user");
  const db = getDb(c.env.DB);
  const now = Date.now();
  const attempts = limits.passwordChange(c.env, caller.id);
  // A stolen access token must not become an unlimited password oracle.
  await takeAttempt(db, [attempts], now, "Too many password-change attempts");
  const [row] = await db.select().from(users).where(eq(users.id, caller.id)).limit(1);
  if (!row || !(await verifyPassword(current_password, row.passwordHash))) {
    throw new ApiError("forbidden", "The current password is wrong.");
  }
  const lower = new_password.toLowerCase();
  if (lower === row.email || lower === row.username) {
    throw new ApiError("validation_failed", "The request body is invalid.", {
      errors: [{ path: "new_password", message: "The password must not equal the email or username." }],
    });
  }
  const passwordHash = await hashPassword(new_password);
  const { issued, statements } = await startFamily(db, c.env, row.id, now);
  // Revocation first, then the caller's new family: the batch runs in order.
  await db.batch([...passwordStatements(db, row.id, passwordHash, now), ...statements, clearCounter(db, attempts)]);
  const updated: UserRow = { ...row, passwordHash, tokenVersion: row.tokenVersion + 1, updatedAt: now };
  return c.json(await signedIn(c, updated, issued, now), 200);
};

export const logoutAll: RouteHandler<typeof routes.logoutAll, AppEnv> = async (c) => {
  const { id } = c.get("user");
  const db = getDb(c.env.DB);
  const now = Date.now();
  await db.batch([
    db
      .update(users)
      .set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now })
      .where(eq(users.id, id)),
    revokeUserTokens(db, id, now),
  ]);
  return c.body(null, 204);
};
