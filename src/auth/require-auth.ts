import { and, eq, isNull, sql } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type Db, getDb } from "../db/client";
import { type Role, refreshTokens, users } from "../db/schema";
import type { AppEnv, AuthUser } from "../env";
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
 * The caller's row, as a query a handler (or the request's D1, see {@link deferCaller}) can put in a db.batch()
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
  if (!row || row.role !== claims.role || row.tokenVersion !== claims.version) {
    throw new ApiError("unauthorized", "The token is no longer valid; sign in again.", { headers: WWW_AUTHENTICATE });
  }
  return row;
}

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
 * Resolves the caller from `Authorization: Bearer <access token>` with its own D1 read (for callers outside the
 * request chain). Returns null when no Authorization header was sent; a header that is present but bad is a 401.
 */
export async function authenticate(env: Env, header: string | undefined): Promise<AuthUser | null> {
  if (header === undefined) return null;
  return authenticateToken(env, fromBearer(header));
}

/** The caller of an access token (from a header or the console's cookie), with its own D1 read; a bad one is a 401. */
export async function authenticateToken(env: Env, token: string): Promise<AuthUser> {
  const claims = await verify(env, token);
  const db = getDb(env.DB);
  const [row] = await callerQuery(db, claims);
  return checkCaller(row, claims);
}

const LATER_FIELDS = ["email", "username", "createdAt", "updatedAt", "emailVerifiedAt", "tokenVersion"] as const;

/**
 * The caller as known from the token (id and role, both checked against the row) until the row arrives; reading any
 * other field before the check ran is a programming error and says so, rather than answering a made-up value.
 */
function provisionalCaller(claims: Claims): AuthUser {
  const user = { id: claims.userId, role: claims.role } as AuthUser;
  for (const key of LATER_FIELDS) {
    Object.defineProperty(user, key, {
      configurable: true,
      enumerable: true,
      get() {
        throw new Error(`caller.${key} read before the caller check: read D1 first, or await loadCaller(c)`);
      },
    });
  }
  return user;
}

/**
 * Signs the caller in without a round trip of its own: the caller's row joins the request's first read-only D1 call
 * (one batch), and is checked before the handler sees any row of that call. Until then `c.var.user` holds the id and
 * role from the token. A write that comes first runs the check alone before itself.
 */
function deferCaller(c: Context<AppEnv>, claims: Claims) {
  const db = c.get("session")();
  const user = provisionalCaller(claims);
  const { sql, params } = callerQuery(getDb(c.env.DB), claims).toSQL();
  db.defer(db.prepare(sql).bind(...params), (row) => {
    const checked = checkCaller(callerFromRow(row), claims);
    for (const key of LATER_FIELDS) Object.defineProperty(user, key, { value: checked[key], enumerable: true });
  });
  c.set("user", user);
}

/** The caller's full row now: runs the deferred check alone when no read has taken it along yet. */
export async function loadCaller(c: Context<AppEnv>): Promise<AuthUser> {
  await c.get("d1")?.settle();
  return c.get("user");
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

async function signIn(c: Context<AppEnv>, token: string, deferWrites: boolean) {
  const claims = await verify(c.env, token);
  if (c.get("session") && (deferWrites || SAFE_METHODS.has(c.req.method))) {
    deferCaller(c, claims);
    return;
  }
  const [row] = await callerQuery(getDb(c.env.DB), claims);
  c.set("user", checkCaller(row, claims));
}

/**
 * A signed-in answer is the caller's own: no cache may keep it (`no-store`), and one that differs by caller says so
 * (`Vary: Authorization`). Set before the handler runs, so error answers carry them too; a handler may still set
 * its own Cache-Control.
 */
function privateAnswer(c: Context<AppEnv>) {
  c.header("Cache-Control", "private, no-store");
  c.header("Vary", "Authorization", { append: true });
}

function signedIn(options: { required: boolean; deferWrites: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    // Bearer wins; without it, the console's access cookie under the console's rule (src/auth/console.ts).
    const token = header === undefined ? consoleAccessToken(c) : fromBearer(header);
    if (token === null) {
      if (!options.required) {
        // An anonymous answer of a route that also serves signed-in callers: it differs by caller.
        c.header("Vary", "Authorization", { append: true });
        return next();
      }
      privateAnswer(c);
      throw new ApiError(
        "unauthorized",
        sentAccessCookie(c) && c.req.header(CONSOLE_HEADER) !== "1"
          ? `Sign in: a console cookie counts only with the header '${CONSOLE_HEADER}: 1' (or send 'Authorization: Bearer <token>').`
          : "Sign in and send 'Authorization: Bearer <token>'.",
        { headers: WWW_AUTHENTICATE },
      );
    }
    privateAnswer(c);
    await signIn(c, token, options.deferWrites);
    await next();
    // No answer leaves without the caller check, also when the handler made no read (or failed before one).
    await c.get("d1")?.settle();
  });
}

/**
 * 401 unless a valid access token is presented; sets `c.var.user`. On GET and HEAD the user check rides along with
 * the handler's first read (see deferCaller): a signed-in read is one D1 round trip. Writes check first, alone.
 */
export const requireUser = signedIn({ required: true, deferWrites: false });

/**
 * requireUser for writes whose handler reads D1 before it uses anything of the caller but id and role: the check
 * joins that read too, so such a write is two round trips (read, write) instead of three.
 */
export const requireUserBatched = signedIn({ required: true, deferWrites: true });

/** Sets `c.var.user` when a valid token is presented, leaves it unset for anonymous callers; a bad token is a 401. */
export const optionalUser = signedIn({ required: false, deferWrites: false });

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
