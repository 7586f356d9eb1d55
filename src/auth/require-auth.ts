import { and, eq, isNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { getDb } from "../db/client";
import { type Role, users } from "../db/schema";
import type { AppEnv, AuthUser } from "../env";
import { ApiError } from "../lib/errors";
import { bearerToken, WWW_AUTHENTICATE } from "./bearer";
import { verifyAccessToken } from "./tokens";

/**
 * Resolves the caller from `Authorization: Bearer <access token>`. The user is re-read from D1 on every request,
 * so a deleted user or a changed role invalidates existing access tokens at once rather than at expiry.
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
    })
    .from(users)
    .where(and(eq(users.id, claims.userId), isNull(users.deletedAt)))
    .limit(1);
  if (!user || user.role !== claims.role) {
    throw new ApiError("unauthorized", "The token is no longer valid; sign in again.", { headers: WWW_AUTHENTICATE });
  }
  return user;
}

/** 401 unless a valid access token is presented; sets `c.var.user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, c.req.header("authorization"));
  if (!user)
    throw new ApiError("unauthorized", "Sign in and send 'Authorization: Bearer <token>'.", {
      headers: WWW_AUTHENTICATE,
    });
  c.set("user", user);
  await next();
});

/** Sets `c.var.user` when a valid token is presented, leaves it unset for anonymous callers; a bad token is a 401. */
export const optionalUser = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, c.req.header("authorization"));
  if (user) c.set("user", user);
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
