import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { API_PREFIX } from "../lib/openapi";
import { settings } from "../lib/settings";
import { checkedClaims, signJwt, verifyJwt } from "./tokens";

/**
 * Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a successful sign-in hands the
 * client a signed token naming the account; a later sign-in attempt for that account that presents it is counted on
 * the account's device budget (all its devices together) and the client's key, never on the account's lock, so
 * failures by anyone else cannot lock the owner out.
 *
 * The token is an HS256 JWT (`typ: device+jwt`, its own audience, so it can never pass as an access token) whose
 * `sub` is the user id and `ver` the user's token version when it was issued. It counts only while both still
 * match the account, so a password reset or change, logout-all, a role change and deletion (each bumps the version)
 * end every device token issued before. Nothing is stored server-side. The client keeps it as it likes: the sign-in
 * answer carries it as `device_token` (for API clients, to send back in the login body) and as an HttpOnly cookie
 * scoped to the auth routes, `/api/v1/auth` (for browsers, sent back by themselves).
 */
export const DEVICE_TOKEN_TYPE = "device+jwt";
export const DEVICE_COOKIE = "device_token";

export function deviceTokenTtlSeconds(env: Env): number {
  return settings(env).deviceTokenTtlDays * 24 * 60 * 60;
}

const audience = (env: Env) => `${settings(env).jwtAudience}:device`;

const DeviceClaims = z.object({ sub: z.guid(), ver: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

export function issueDeviceToken(env: Env, user: { id: string; tokenVersion: number }, now?: number): Promise<string> {
  return signJwt(env, {
    typ: DEVICE_TOKEN_TYPE,
    subject: user.id,
    audience: audience(env),
    ttlSeconds: deviceTokenTtlSeconds(env),
    claims: { ver: user.tokenVersion },
    now,
  });
}

export type DeviceClaims = { userId: string; version: number };

/** The claims of a presented device token with a valid signature, type and audience; anything else is null. */
export async function deviceClaims(env: Env, presented: string | undefined): Promise<DeviceClaims | null> {
  if (!presented) return null;
  try {
    const claims = checkedClaims(
      DeviceClaims,
      await verifyJwt(env, presented, { typ: DEVICE_TOKEN_TYPE, audience: audience(env), requiredClaims: ["ver"] }),
    );
    return { userId: claims.sub, version: claims.ver };
  } catch {
    return null;
  }
}

/** Whether the device token belongs to this account as it is now (same user, same token version). */
export function isKnownDevice(device: DeviceClaims | null, user: { id: string; tokenVersion: number } | undefined) {
  return device !== null && user !== undefined && device.userId === user.id && device.version === user.tokenVersion;
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
    `${DEVICE_COOKIE}=${token}; Path=${API_PREFIX}/auth; Max-Age=${deviceTokenTtlSeconds(c.env as Env)}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`,
    { append: true },
  );
}
