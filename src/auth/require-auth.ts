import { and, eq, isNull, sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Db, RequestD1 } from "../db/client";
import { type Role, refreshTokens, users } from "../db/schema";
import type { AppEnv, AuthUser, Caller, OptionalCallerEnv, SignedInEnv } from "../env";
import { ApiError } from "../lib/errors";
import { bearerToken, WWW_AUTHENTICATE } from "./bearer";
import { CONSOLE_HEADER, consoleAccessToken, sentAccessCookie } from "./console";
import { verifyAccessToken } from "./tokens";

/** The claims of a verified access token. */
export type Claims = Awaited<ReturnType<typeof verifyAccessToken>>;

/** The user-row columns every caller check reads: the one place to add one (a token version, say). */
const CALLER_COLUMNS = {
  id: users.id,
  email: users.email,
  username: users.username,
  role: users.role,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
  emailVerifiedAt: users.emailVerifiedAt,
  tokenVersion: users.tokenVersion,
} as const;

/**
 * The caller's row, as a query a handler (or the request's D1, see {@link deferredCaller}) can put in a db.batch()
 * beside its own statements, so the check costs no round trip of its own.
 */
export function callerQuery(db: Db, claims: Claims) {
  return db
    .select(CALLER_COLUMNS)
    .from(users)
    .where(
      and(
        eq(users.id, claims.userId),
        isNull(users.deletedAt),
        // The token's sign-in (refresh family) is not ended: logout and a reused refresh token delete its rows.
        claims.sessionId === null
          ? undefined
          : sql`EXISTS (SELECT 1 FROM ${refreshTokens} WHERE ${refreshTokens.familyId} = ${claims.sessionId} AND ${refreshTokens.revokedAt} IS NULL)`,
      ),
    )
    .limit(1);
}

/**
 * The check over callerQuery's row: the user still exists, still has the token's role, the token carries the row's
 * token version, and its sign-in is not ended. The user is re-read on every request, so a deletion, a role change, a
 * password reset or change, or logout-all (each bumps the version, which only ever goes up) ends existing access
 * tokens at once, and so does the end of the one sign-in a token belongs to (logout, refresh token reuse).
 */
export function checkCaller(row: AuthUser | undefined, claims: Claims): AuthUser {
  if (!row || row.role !== claims.role || row.tokenVersion !== claims.version) throw noLongerValid();
  return row;
}

const noLongerValid = () =>
  new ApiError("unauthorized", "The token is no longer valid; sign in again.", { headers: WWW_AUTHENTICATE });

/** callerQuery's row as D1 returns it outside drizzle (column names), decoded by the same columns. */
function callerFromRow(row: Record<string, unknown> | undefined): AuthUser | undefined {
  if (!row) return undefined;
  const user: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(CALLER_COLUMNS)) user[key] = column.mapFromDriverValue(row[column.name]);
  return user as AuthUser;
}

async function verify(env: Env, token: string): Promise<Claims> {
  return verifyAccessToken(env, token).catch((error: ApiError) => {
    throw new ApiError("unauthorized", error.detail, { headers: WWW_AUTHENTICATE });
  });
}

function fromBearer(header: string): string {
  const token = bearerToken(header);
  if (!token) throw new ApiError("unauthorized", "Use 'Authorization: Bearer <token>'.", { headers: WWW_AUTHENTICATE });
  return token;
}

/**
 * The caller of an access token (from `Authorization` or the console's cookie) checked with a read of its own, for
 * the routes that decide between credentials themselves (the cursor session routes take a session token or an
 * admin's access token); a bad token is a 401.
 */
export async function authenticateToken(env: Env, db: Db, token: string): Promise<AuthUser> {
  return checkedRow(db, await verify(env, token));
}

/** authenticateToken for an `Authorization` header: null when none was sent, a 401 when it is not a Bearer token. */
export async function authenticate(env: Env, db: Db, header: string | undefined): Promise<AuthUser | null> {
  if (header === undefined) return null;
  return authenticateToken(env, db, fromBearer(header));
}

/**
 * The caller whose check joins the request's first read-only D1 call (one batch) and runs before the handler sees
 * any row of that call, so a signed-in read costs one round trip. A write that comes first runs the check alone
 * before itself; so does `row()` when no read has taken it along yet.
 */
function deferredCaller(d1: RequestD1, db: Db, claims: Claims): Caller {
  let checked: AuthUser | undefined;
  const { sql, params } = callerQuery(db, claims).toSQL();
  d1.defer(d1.prepare(sql).bind(...params), (row) => {
    checked = checkCaller(callerFromRow(row), claims);
  });
  return {
    id: claims.userId,
    role: claims.role,
    async row() {
      await d1.settle();
      // Unset only when the check refused the caller (that refusal already failed the read that carried it).
      if (!checked) throw noLongerValid();
      return checked;
    },
  };
}

/** The caller's row checked now, with a read of its own. */
async function checkedRow(db: Db, claims: Claims): Promise<AuthUser> {
  const [row] = await callerQuery(db, claims);
  return checkCaller(row, claims);
}

/** The caller checked now, with a read of its own (a write's first statement must not run for a stranger). */
async function checkedCaller(db: Db, claims: Claims): Promise<Caller> {
  const user = await checkedRow(db, claims);
  return { id: user.id, role: user.role, row: async () => user };
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * A signed-in answer is the caller's own: no cache may keep it (`no-store`), and one that differs by caller says so
 * (`Vary: Authorization`). Set before the handler runs, so error answers carry them too; a handler may still set
 * its own Cache-Control.
 */
function privateAnswer(c: Context) {
  c.header("Cache-Control", "private, no-store");
  c.header("Vary", "Authorization", { append: true });
}

/**
 * The access token the request presents: the Bearer token of `Authorization`, else the console's access cookie under
 * the console's rule (src/auth/console.ts: the `X-Console` header and the app's own Origin); null when neither.
 */
function presentedToken(c: Context): string | null {
  const header = c.req.header("authorization");
  return header === undefined ? consoleAccessToken(c) : fromBearer(header);
}

type SignedIn = { required: boolean; deferWrites: boolean };

function signedInMiddleware(options: SignedIn): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = presentedToken(c);
    if (token === null) {
      if (!options.required) {
        // An anonymous answer of a route that also serves signed-in callers: it differs by caller.
        c.header("Vary", "Authorization", { append: true });
        return next();
      }
      privateAnswer(c);
      throw new ApiError(
        "unauthorized",
        // A console request's cookie would have been taken (or refused): a cookie left here came without the header.
        sentAccessCookie(c)
          ? `Sign in: a console cookie counts only with the header '${CONSOLE_HEADER}: 1' (or send 'Authorization: Bearer <token>').`
          : "Sign in and send 'Authorization: Bearer <token>'.",
        { headers: WWW_AUTHENTICATE },
      );
    }
    privateAnswer(c);
    const claims = await verify(c.env, token);
    const { d1, db } = c.var;
    if (options.deferWrites || SAFE_METHODS.has(c.req.method)) {
      c.set("caller", deferredCaller(d1, db, claims));
    } else {
      c.set("caller", await checkedCaller(db, claims));
    }
    await next();
    // No answer leaves without the caller check, also when the handler made no read (or failed before one).
    await d1.settle();
  });
}

/** The middleware typed by what it sets: `c.var.caller` always (required) or when a token was sent (optional). */
function signedIn(options: SignedIn & { required: true }): MiddlewareHandler<AppEnv & SignedInEnv>;
function signedIn(options: SignedIn & { required: false }): MiddlewareHandler<AppEnv & OptionalCallerEnv>;
function signedIn(options: SignedIn): MiddlewareHandler<AppEnv & SignedInEnv> | MiddlewareHandler<AppEnv> {
  return signedInMiddleware(options);
}

/**
 * 401 unless a valid access token is presented; sets `c.var.caller`. On GET and HEAD the caller check rides along
 * with the handler's first read (see deferredCaller): a signed-in read is one D1 round trip. Writes check first, alone.
 */
export const requireCaller = signedIn({ required: true, deferWrites: false });

/**
 * requireCaller for writes whose handler reads D1 before it needs the caller's row (id and role come from the
 * token): the check joins that read too, so such a write is two round trips (read, write) instead of three.
 */
export const requireCallerBatched = signedIn({ required: true, deferWrites: true });

/** Sets `c.var.caller` when a valid token is presented, leaves it unset for anonymous callers; a bad token is a 401. */
export const optionalCaller = signedIn({ required: false, deferWrites: false });

/** After requireCaller: 403 unless the caller has one of the roles. The superuser passes every admin check. */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv & SignedInEnv>(async (c, next) => {
    const user = c.get("caller");
    const allowed = roles.includes(user.role) || (user.role === "superuser" && roles.includes("admin"));
    if (!allowed) throw new ApiError("forbidden", `This needs the ${roles.join(" or ")} role.`);
    await next();
  });
}

export function isAdmin(user: Pick<Caller, "role">): boolean {
  return user.role === "admin" || user.role === "superuser";
}
