import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { settings } from "../lib/settings";
import { signJwt, verifyJwt } from "./tokens";

/**
 * Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a successful sign-in hands the
 * client a signed token naming the account; a later sign-in attempt for that account that presents it is counted on
 * that device alone, never on the account's lock, so failures by anyone else cannot lock the owner out.
 *
 * The token is an HS256 JWT (`typ: device+jwt`, its own audience, so it can never pass as an access token) with the
 * account's email in `email` and a fresh `jti` that names the device's counter. Nothing is stored server-side.
 * The client keeps it as it likes: the sign-in answer carries it as `device_token` (for API clients, to send back
 * in the login body) and as an HttpOnly cookie scoped to /api/v1/auth (for browsers, sent back by themselves).
 */
export const DEVICE_TOKEN_TYPE = "device+jwt";
export const DEVICE_COOKIE = "device_token";

export function deviceTokenTtlSeconds(env: Env): number {
  return settings(env).deviceTokenTtlDays * 24 * 60 * 60;
}

const audience = (env: Env) => `${settings(env).jwtAudience}:device`;

export function issueDeviceToken(env: Env, user: { id: string; email: string }, now?: number): Promise<string> {
  return signJwt(env, {
    typ: DEVICE_TOKEN_TYPE,
    subject: user.id,
    audience: audience(env),
    ttlSeconds: deviceTokenTtlSeconds(env),
    claims: { email: user.email },
    now,
  });
}

/** The device id (`jti`) of a presented token that is valid and issued for this email; anything else is null. */
export async function deviceFor(env: Env, presented: string | undefined, email: string): Promise<string | null> {
  if (!presented) return null;
  try {
    const payload = await verifyJwt(env, presented, { typ: DEVICE_TOKEN_TYPE, audience: audience(env) });
    return payload.email === email ? (payload.jti as string) : null;
  } catch {
    return null;
  }
}

/** The body field wins over the cookie (an API client says what it means). */
export function presentedDeviceToken(c: Context, fromBody: string | undefined): string | undefined {
  return fromBody ?? getCookie(c, DEVICE_COOKIE);
}

/** Sets the device cookie: HttpOnly (no script reads it), SameSite=Strict, only sent to the auth routes. */
export function setDeviceCookie(c: Context, token: string) {
  const secure = new URL(c.req.url).protocol === "https:";
  c.header(
    "Set-Cookie",
    `${DEVICE_COOKIE}=${token}; Path=/api/v1/auth; Max-Age=${deviceTokenTtlSeconds(c.env as Env)}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`,
    { append: true },
  );
}
