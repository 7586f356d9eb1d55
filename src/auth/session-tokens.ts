import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { decodeProtectedHeader } from "jose";
import type { Db } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { settings } from "../lib/settings";
import { bearerToken, WWW_AUTHENTICATE } from "./bearer";
import { consoleAccessToken, websocketAccessToken } from "./console";
import { authenticate, authenticateToken, isAdmin } from "./require-auth";
import { checkedClaims, signJwt, verifyJwt } from "./tokens";

export const CURSOR_TOKEN_TYPE = "cursor+jwt";
/** A page left open all day keeps working; the token grants nothing beyond its own session. */
export const CURSOR_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** Its own audience and `typ`, so a session token is never accepted as an access token, nor the other way round. */
export function cursorAudience(env: Env): string {
  return `${settings(env).jwtAudience}:cursor`;
}

export function signCursorToken(env: Env, sessionId: string, now?: number): Promise<string> {
  return signJwt(env, {
    typ: CURSOR_TOKEN_TYPE,
    subject: sessionId,
    audience: cursorAudience(env),
    ttlSeconds: CURSOR_TOKEN_TTL_SECONDS,
    now,
  });
}

/**
 * Session tokens this isolate has verified, token → { sub, exp }. The page posts a batch every 100 ms with the same
 * token (and a benchmark far more often), and an HMAC check per batch is measurable. Keyed by the whole token,
 * signature included, so only a token that itself passed verification hits; the subject is still compared with
 * the session on every request (another session's token stays a 403), and an entry is used only until the token's
 * own expiry. A change of secret, issuer or audience empties the cache.
 */
export const TOKEN_CACHE_SIZE = 1_000;
const verifiedTokens = new Map<string, { sub: string; exp: number }>();
let verifiedWith = "";

function cachedSubject(env: Env, token: string, now: number): string | null {
  const config = `${env.JWT_SECRET}\u0000${settings(env).jwtIssuer}\u0000${cursorAudience(env)}`;
  if (config !== verifiedWith) {
    verifiedTokens.clear();
    verifiedWith = config;
    return null;
  }
  const entry = verifiedTokens.get(token);
  if (!entry) return null;
  verifiedTokens.delete(token);
  // Seconds, as in the token; no clock tolerance here: a token about to expire is verified again.
  if (entry.exp * 1000 <= now) return null;
  verifiedTokens.set(token, entry); // most recently used last
  return entry.sub;
}

function rememberSubject(token: string, sub: string, exp: number): void {
  if (verifiedTokens.size >= TOKEN_CACHE_SIZE) verifiedTokens.delete(verifiedTokens.keys().next().value!);
  verifiedTokens.set(token, { sub, exp });
}

/** For tests: how many verified tokens this isolate holds. */
export function verifiedTokenCount(): number {
  return verifiedTokens.size;
}

/** A session token names its session (a UUID) and expires; anything else signed is still an invalid token (401). */
const CursorClaims = z.object({ sub: z.guid(), exp: z.number() });

async function sessionTokenSubject(env: Env, token: string): Promise<string> {
  const now = Date.now();
  const cached = cachedSubject(env, token, now);
  if (cached !== null) return cached;
  const { sub, exp } = await verifyJwt(env, token, { typ: CURSOR_TOKEN_TYPE, audience: cursorAudience(env) })
    .then((payload) => checkedClaims(CursorClaims, payload))
    .catch((error: ApiError) => {
      throw new ApiError("unauthorized", error.detail, { headers: WWW_AUTHENTICATE });
    });
  rememberSubject(token, sub, exp);
  return sub;
}

export type SessionCaller = { kind: "session" } | { kind: "admin"; userId: string };

/**
 * Who may act on session `sessionId`: the holder of that session's token, or an admin with an access token.
 * No token or a bad one: 401. Another session's token, or a non-admin's access token: 403.
 * `queryToken` is the WebSocket's `?token=` (browsers cannot set headers on a WebSocket).
 */
export async function authorizeSession(
  env: Env,
  db: Db,
  sessionId: string,
  authorization: string | undefined,
  queryToken?: string,
  options: { allowAdmin?: boolean } = { allowAdmin: true },
): Promise<SessionCaller> {
  const token = bearerToken(authorization) ?? (authorization === undefined ? (queryToken ?? null) : null);
  if (!token) {
    throw new ApiError(
      "unauthorized",
      authorization === undefined
        ? "Send the session token as 'Authorization: Bearer <token>'."
        : "Use 'Authorization: Bearer <token>'.",
      { headers: WWW_AUTHENTICATE },
    );
  }
  let typ: unknown;
  try {
    typ = verifiedTokens.has(token) ? CURSOR_TOKEN_TYPE : decodeProtectedHeader(token).typ;
  } catch {
    throw new ApiError("unauthorized", "The token is invalid.", { headers: WWW_AUTHENTICATE });
  }
  if (typ === CURSOR_TOKEN_TYPE) {
    if ((await sessionTokenSubject(env, token)) !== sessionId)
      throw new ApiError("forbidden", "This token belongs to another cursor session.");
    return { kind: "session" };
  }
  // Anything else must be an access token (verified with its own type pinned); only admins pass.
  const user = await authenticate(env, db, `Bearer ${token}`);
  if (!user) throw new ApiError("unauthorized", "The token is invalid.", { headers: WWW_AUTHENTICATE });
  if (!options.allowAdmin || !isAdmin(user)) {
    throw new ApiError("forbidden", "Only this session's token (or an admin) may do this.");
  }
  return { kind: "admin", userId: user.id };
}

/**
 * authorizeSession for a request, where the console's access cookie may stand in for an admin's bearer token (when
 * the request has no Authorization and no `?token=`): under the console's rule (X-Console and Origin), or for a
 * WebSocket upgrade, which cannot carry that header, its Origin alone (src/auth/console.ts).
 */
export async function authorizeSessionRequest(
  c: Context<AppEnv>,
  sessionId: string,
  options: { queryToken?: string; websocket?: boolean } = {},
): Promise<SessionCaller> {
  const authorization = c.req.header("authorization");
  if (authorization === undefined && options.queryToken === undefined) {
    const cookie = options.websocket ? websocketAccessToken(c) : consoleAccessToken(c);
    if (cookie) {
      const user = await authenticateToken(c.env, c.var.db, cookie);
      if (!isAdmin(user)) throw new ApiError("forbidden", "Only this session's token (or an admin) may do this.");
      return { kind: "admin", userId: user.id };
    }
  }
  return authorizeSession(c.env, c.var.db, sessionId, authorization, options.queryToken);
}

const Uuid = z.uuid();

/**
 * Route middleware for posting events: only the session's own token, checked BEFORE the body is validated, so an
 * anonymous or foreign caller learns nothing from a 422 about what the body should have been. A malformed id is
 * left to the path validator (400).
 */
export const requireSessionToken = createMiddleware<AppEnv>(async (c, next) => {
  const id = c.req.param("id");
  if (id && Uuid.safeParse(id).success) {
    await authorizeSession(c.env, c.var.db, id, c.req.header("authorization"), undefined, { allowAdmin: false });
  }
  await next();
});
