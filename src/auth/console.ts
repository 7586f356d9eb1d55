import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { ApiError } from "../lib/errors";
import { publicOrigin } from "../lib/public-origin";
import type { SignedIn } from "./sign-in";

/**
 * The console's sign-in, backend-for-frontend style (docs/accounts.md, "The console: cookie sign-in"): the tokens of a
 * console sign-in live in `__Host-` cookies that script cannot read, and the API takes those cookies as a credential
 * only from the console itself: with the fixed header `X-Console: 1` (no other site can make a browser send a custom
 * header without CORS, which is not granted) and an `Origin` equal to PUBLIC_ORIGIN. Chromium sends no `Origin` on a
 * same-origin GET; it sends `Sec-Fetch-Site: same-origin`, which no page of another site can produce.
 * WebSocket upgrades cannot carry a custom header: the cookie counts there when `Origin` equals PUBLIC_ORIGIN.
 * A request with `Authorization` is a Bearer request and its cookies are ignored.
 */
export const ACCESS_COOKIE = "__Host-access";
export const REFRESH_COOKIE = "__Host-refresh";
export const CONSOLE_HEADER = "X-Console";

/** The console's own requests say so: `X-Console: 1`, exactly. */
export function fromConsole(c: Context): boolean {
  return c.req.header(CONSOLE_HEADER) === "1";
}

/** Why a request may not use the console's cookies, or null when it may. */
function originRefusal(c: Context, websocket: boolean): string | null {
  const origin = publicOrigin(c.env as Env)?.origin;
  if (!origin) return "Cookie sign-in is off: this deployment has no PUBLIC_ORIGIN.";
  const sent = c.req.header("origin");
  if (sent === origin) return null;
  if (sent !== undefined) return `A console cookie is only taken from ${origin}, not from ${sent}.`;
  if (websocket) return `A WebSocket signed in by cookie must come from ${origin} (its Origin header).`;
  const safe = c.req.method === "GET" || c.req.method === "HEAD";
  if (safe && c.req.header("sec-fetch-site") === "same-origin") return null;
  return safe
    ? "A console cookie without an Origin header needs Sec-Fetch-Site: same-origin."
    : `A console write must carry the Origin header ${origin}.`;
}

/** For the /auth/session routes: 403 unless the request is the console's own (header and Origin). */
export function assertConsoleRequest(c: Context): void {
  if (!fromConsole(c)) {
    throw new ApiError("forbidden", `The console's sign-in routes need the header '${CONSOLE_HEADER}: 1'.`);
  }
  const refusal = originRefusal(c, false);
  if (refusal) throw new ApiError("forbidden", refusal);
}

/**
 * The access token of a console request's cookie, when the request may use it: null when the request is not the
 * console's (no `X-Console: 1`: cookies ignored) or carries no access cookie; 403 when it says it is the console but
 * comes from elsewhere.
 */
export function consoleAccessToken(c: Context): string | null {
  if (!fromConsole(c)) return null;
  const refusal = originRefusal(c, false);
  if (refusal) throw new ApiError("forbidden", refusal);
  return getCookie(c, ACCESS_COOKIE) ?? null;
}

/** A WebSocket upgrade's access cookie, when its Origin is the console's; 403 for a cookie from anywhere else. */
export function websocketAccessToken(c: Context): string | null {
  const token = getCookie(c, ACCESS_COOKIE);
  if (!token) return null;
  const refusal = originRefusal(c, true);
  if (refusal) throw new ApiError("forbidden", refusal);
  return token;
}

/** Whether the request sent an access cookie at all (to say why a request without the header was not signed in). */
export function sentAccessCookie(c: Context): boolean {
  return getCookie(c, ACCESS_COOKIE) !== undefined;
}

export function refreshCookie(c: Context): string | undefined {
  return getCookie(c, REFRESH_COOKIE);
}

function cookie(name: string, value: string, maxAge: number): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}

/** Both cookies of a console sign-in (and the device cookie, which the caller sets as login does). */
export function setSessionCookies(c: Context, signedIn: SignedIn): void {
  c.header("Set-Cookie", cookie(ACCESS_COOKIE, signedIn.accessToken, signedIn.accessExpiresIn), { append: true });
  c.header("Set-Cookie", cookie(REFRESH_COOKIE, signedIn.refreshToken, signedIn.refreshExpiresIn), { append: true });
}

export function clearSessionCookies(c: Context): void {
  c.header("Set-Cookie", cookie(ACCESS_COOKIE, "", 0), { append: true });
  c.header("Set-Cookie", cookie(REFRESH_COOKIE, "", 0), { append: true });
}
