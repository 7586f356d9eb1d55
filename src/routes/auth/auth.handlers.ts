import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import {
  assertAvailable,
  conflict,
  ensureSuperuser,
  superuserEmail,
  toUser,
  uniqueUsername,
  uniqueViolation,
} from "../../auth/accounts";
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from "../../auth/passwords";
import {
  assertLoginAllowed,
  clearAccountFailures,
  loginKeys,
  loginLimits,
  recordLoginFailure,
} from "../../auth/rate-limit";
import { type IssuedRefreshToken, revokeFamilyOf, rotateRefreshToken, startFamily } from "../../auth/refresh";
import { loadCaller } from "../../auth/require-auth";
import { accessTokenTtl, signAccessToken } from "../../auth/tokens";
import { type Db, getDb } from "../../db/client";
import { users } from "../../db/schema";
import type { AppEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import type * as routes from "./auth.routes";

type UserRow = typeof users.$inferSelect;

async function tokenPair(env: Env, user: UserRow, refresh: IssuedRefreshToken, now: number) {
  return {
    access_token: await signAccessToken(env, user, now),
    token_type: "Bearer" as const,
    expires_in: accessTokenTtl(env),
    refresh_token: refresh.token,
    refresh_expires_in: Math.round((refresh.expiresAt - now) / 1000),
    user: toUser(user),
  };
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
  await assertAvailable(db, c.env, { email: body.email, username: body.username });
  const now = Date.now();
  const user: UserRow = {
    id: crypto.randomUUID(),
    email: body.email,
    username: body.username ?? (await uniqueUsername(db, body.email)),
    passwordHash: await hashPassword(body.password),
    role: "member",
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const { issued, statements } = await startFamily(db, c.env, user.id, now);
  try {
    // The user and its first refresh token together, or neither.
    await db.batch([db.insert(users).values(user), ...statements]);
  } catch (error) {
    const field = uniqueViolation(error);
    if (field) throw conflict(field);
    throw error;
  }
  c.header("Location", "/api/v1/auth/me");
  return c.json(await tokenPair(c.env, user, issued, now), 201);
};

const BAD_CREDENTIALS = "Invalid email or password.";

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const { email, password } = c.req.valid("json");
  const db = getDb(c.env.DB);
  const limits = loginLimits(c.env);
  const keys = loginKeys(email, c.req.header("cf-connecting-ip"));
  const now = Date.now();
  await assertLoginAllowed(db, keys, limits, now);

  let user = await liveUserBy(db, eq(users.email, email));
  if (!user && email === superuserEmail(c.env) && (await ensureSuperuser(db, c.env, now))) {
    user = await liveUserBy(db, eq(users.email, email));
  }
  // An unknown email costs the same scrypt work as a wrong password and gets the same answer.
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok) {
    await recordLoginFailure(db, keys, limits, now);
    throw new ApiError("unauthorized", BAD_CREDENTIALS);
  }

  const { issued, statements } = await startFamily(db, c.env, user.id, now);
  const upgrade = needsRehash(user.passwordHash)
    ? [
        db
          .update(users)
          .set({ passwordHash: await hashPassword(password) })
          .where(eq(users.id, user.id)),
      ]
    : [];
  await db.batch([...statements, ...upgrade, clearAccountFailures(db, keys)]);
  return c.json(await tokenPair(c.env, user, issued, now), 200);
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

// The caller check requireUser deferred is the one read (deleted users are refused there); no second read.
export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => c.json(toUser(await loadCaller(c)), 200);
