import { and, eq, isNull } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { getDb } from "../db/client";
import { type Role, users } from "../db/schema";
import type { AppEnv, AuthUser } from "../env";
import { ApiError } from "../lib/errors";
import { bearerToken, WWW_AUTHENTICATE } from "./bearer";
import { verifyAccessToken } from "./tokens";

/**
 * Resolves the caller from `Authorization: Bearer <access token>`. The user is re-read from D1 on every request
 * (one read, the only one this adds), so a deleted user, a changed role or a bumped token version invalidates
 * existing access tokens at once rather than at expiry.
 * Returns null when no Authorization header was sent; a header that is present but bad is always a 401.
 */
export async function authenticate(env: Env, header: string | undefined): Promise<AuthUser | null> {
  if (header === undefined) return null;
  const token = bearerToken(header);
  if (!token) throw new ApiError("unauthorized", "Use 'Authorization: Bearer <token>'.", { headers: WWW_AUTHENTICATE });
  const claims = await verifyAccessToken(env, token).catch((error: ApiError) => {
    throw new ApiError("unauthorized", error.detail, { headers: WWW_AUTHENTICATE });
  });
  const [user] = await getDb(env.DB)
    .select({
      id: users.id,
      email: users.email,
      username: users.username,
      role: users.role,
      createdAt: users.createdAt,
      updatedAt: users.updatedAt,
      emailVerifiedAt: users.emailVerifiedAt,
      tokenVersion: users.tokenVersion,
    })
    .from(users)
    .where(and(eq(users.id, claims.userId), isNull(users.deletedAt)))
    .limit(1);
  // The same single read also carries the token version: a token signed before the last reset, password change,
  // logout-all, role change or deletion has an older `ver` and is refused (versions only ever go up).
  if (!user || user.role !== claims.role || user.tokenVersion !== claims.version) {
    throw new ApiError("unauthorized", "The token is no longer valid; sign in again.", { headers: WWW_AUTHENTICATE });
  }
  return user;
}

/**
 * A signed-in answer is the caller's own: no cache may keep it (`no-store`), and one that differs by caller says so
 * (`Vary: Authorization`). Set before the handler runs, so error answers carry them too; a handler may still set
 * its own Cache-Control.
 */
function privateAnswer(c: Context<AppEnv>) {
  c.header("Cache-Control", "no-store");
  c.header("Vary", "Authorization", { append: true });
}

/** 401 unless a valid access token is presented; sets `c.var.user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  privateAnswer(c);
  const user = await authenticate(c.env, c.req.header("authorization"));
  if (!user)
    throw new ApiError("unauthorized", "Sign in and send 'Authorization: Bearer <token>'.", {
      headers: WWW_AUTHENTICATE,
    });
  c.set("user", user);
  await next();
});

/**
 * Sets `c.var.user` when a valid token is presented, leaves it unset for anonymous callers; a bad token is a 401.
 * The answer may differ by caller (`Vary: Authorization`); a signed-in caller's answer is not stored by caches.
 */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, c.req.header("authorization"));
  if (user) {
    privateAnswer(c);
    c.set("user", user);
  } else {
    c.header("Vary", "Authorization", { append: true });
  }
  await next();
});

/** After requireUser: 403 unless the caller has one of the roles. The superuser passes every admin check. */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    const allowed = roles.includes(user.role) || (user.role === "superuser" && roles.includes("admin"));
    if (!allowed) throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
    await next();
  });
}

export function isAdmin(user: AuthUser): boolean {
  return user.role === "admin" || user.role === "superuser";
}
