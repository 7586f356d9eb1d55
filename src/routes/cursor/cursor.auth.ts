import { decodeProtectedHeader } from "jose";
import { authenticate, isAdmin } from "../../auth/require-auth";
import { signJwt, verifyJwt } from "../../auth/tokens";
import { ApiError } from "../../lib/errors";

export const CURSOR_TOKEN_TYPE = "cursor+jwt";
/** A page left open all day keeps working; the token grants nothing beyond its own session. */
export const CURSOR_TOKEN_TTL_SECONDS = 24 * 60 * 60;

const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="edge-backoffice"' };

/** Its own audience and `typ`, so a session token is never accepted as an access token, nor the other way round. */
export function cursorAudience(env: Env): string {
  return `${env.JWT_AUDIENCE}:cursor`;
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

export type SessionCaller = { kind: "session" } | { kind: "admin"; userId: string };

function bearer(header: string | undefined): string | null {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
}

/**
 * Who may act on session `sessionId`: the holder of that session's token, or an admin with an access token.
 * No token or a bad one: 401. Another session's token, or a non-admin's access token: 403.
 * `queryToken` is the WebSocket's `?token=` (browsers cannot set headers on a WebSocket).
 */
export async function authorizeSession(
  env: Env,
  sessionId: string,
  authorization: string | undefined,
  queryToken?: string,
  options: { allowAdmin?: boolean } = { allowAdmin: true },
): Promise<SessionCaller> {
  const token = bearer(authorization) ?? (authorization === undefined ? (queryToken ?? null) : null);
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
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw new ApiError("unauthorized", "The token is invalid.", { headers: WWW_AUTHENTICATE });
  }
  if (typ === CURSOR_TOKEN_TYPE) {
    const payload = await verifyJwt(env, token, { typ: CURSOR_TOKEN_TYPE, audience: cursorAudience(env) }).catch(
      (error: ApiError) => {
        throw new ApiError("unauthorized", error.detail, { headers: WWW_AUTHENTICATE });
      },
    );
    if (payload.sub !== sessionId) throw new ApiError("forbidden", "This token belongs to another cursor session.");
    return { kind: "session" };
  }
  // Anything else must be an access token (verified with its own type pinned); only admins pass.
  const user = await authenticate(env, `Bearer ${token}`);
  if (!user) throw new ApiError("unauthorized", "The token is invalid.", { headers: WWW_AUTHENTICATE });
  if (!options.allowAdmin || !isAdmin(user)) {
    throw new ApiError("forbidden", "Only this session's token (or an admin) may do this.");
  }
  return { kind: "admin", userId: user.id };
}
