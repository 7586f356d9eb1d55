import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { requestPasswordReset, sendVerificationMail } from "../../auth/account-mail";
import { toUser } from "../../auth/accounts";
import { clientKey } from "../../auth/client";
import { ACCESS_COOKIE, clearSessionCookies, refreshCookie, setSessionCookies } from "../../auth/console";
import { presentedDeviceToken, setDeviceCookie } from "../../auth/device";
import { limits, takeAttempt } from "../../auth/rate-limit";
import {
  changePassword as changeOwnPassword,
  resetPassword as resetWithToken,
  verifyEmail as verifyWithToken,
} from "../../auth/recovery";
import { loadCaller } from "../../auth/require-auth";
import {
  endEverySignIn,
  endSignIn,
  endSignInById,
  registerMember,
  rotateSignIn,
  type SignedIn,
  signInWithPassword,
} from "../../auth/sign-in";
import { verifyAccessToken } from "../../auth/tokens";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import { settings } from "../../lib/settings";
import type * as routes from "./auth.routes";

/**
 * The auth routes: each validates (the route does), calls the account logic in src/auth/, and shapes the answer: a
 * token pair in JSON for Bearer clients, or cookies and a ConsoleSession for the console.
 */

/** A Bearer client's answer: the tokens in the body (and the device token as its cookie too). */
function tokenPair(c: Context<AppEnv>, signedIn: SignedIn) {
  if (signedIn.deviceToken) setDeviceCookie(c, signedIn.deviceToken);
  return {
    access_token: signedIn.accessToken,
    token_type: "Bearer" as const,
    expires_in: signedIn.accessExpiresIn,
    refresh_token: signedIn.refreshToken,
    refresh_expires_in: signedIn.refreshExpiresIn,
    user: toUser(signedIn.user),
    ...(signedIn.deviceToken ? { device_token: signedIn.deviceToken } : {}),
  };
}

/** The console's answer: the tokens in cookies, the body without any. */
function consoleSession(c: Context<AppEnv>, signedIn: SignedIn) {
  setSessionCookies(c, signedIn);
  if (signedIn.deviceToken) setDeviceCookie(c, signedIn.deviceToken);
  return {
    user: toUser(signedIn.user),
    expires_in: signedIn.accessExpiresIn,
    refresh_expires_in: signedIn.refreshExpiresIn,
  };
}

/** A signed-in request that came without Authorization came by the console's cookie (requireUser took it). */
const byCookie = (c: Context<AppEnv>) => c.req.header("authorization") === undefined;

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const signedIn = await registerMember(c.env, c.req.valid("json"), await clientKey(c), Date.now());
  c.header("Location", "/api/v1/auth/me");
  return c.json(tokenPair(c, signedIn), 201);
};

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const { email, password, device_token } = c.req.valid("json");
  const signedIn = await signInWithPassword(
    c.env,
    { email, password, deviceToken: presentedDeviceToken(c, device_token), client: await clientKey(c) },
    Date.now(),
  );
  return c.json(tokenPair(c, signedIn), 200);
};

export const refresh: RouteHandler<typeof routes.refresh, AppEnv> = async (c) => {
  const signedIn = await rotateSignIn(c.env, c.req.valid("json").refresh_token, Date.now());
  return c.json(tokenPair(c, signedIn), 200);
};

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  await endSignIn(c.env, c.req.valid("json").refresh_token);
  return c.body(null, 204);
};

// The caller's row, read by requireUser's check in the same round trip: no second read.
export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => c.json(toUser(await loadCaller(c)), 200);

export const verifyEmail: RouteHandler<typeof routes.verifyEmail, AppEnv> = async (c) => {
  await verifyWithToken(c.env, c.req.valid("json").token, Date.now());
  return c.body(null, 204);
};

const MAIL_ON_ITS_WAY = "A mail is on its way.";

export const resendVerification: RouteHandler<typeof routes.resendVerification, AppEnv> = async (c) => {
  const user = c.get("user");
  if (user.emailVerifiedAt !== null) throw new ApiError("conflict", "The email address is already verified.");
  const now = Date.now();
  // The owner's own budget: nobody else's requests count on it.
  await takeAttempt(getDb(c.env.DB), [limits.resend(c.env, user.id)], now, "Too many verification mails asked for");
  await sendVerificationMail(c.env, user, now);
  return c.json({ message: MAIL_ON_ITS_WAY }, 202);
};

const FORGOT_ANSWER = "If that address has an account, a mail with a reset link is on its way.";

export const forgotPassword: RouteHandler<typeof routes.forgotPassword, AppEnv> = async (c) => {
  const { email } = c.req.valid("json");
  // Per client, alike for every address; the lookup and the mail happen off the request path (the mail consumer).
  await takeAttempt(
    getDb(c.env.DB),
    [limits.forgot(await clientKey(c))],
    Date.now(),
    "Too many password-reset requests",
  );
  await requestPasswordReset(c.env, email);
  return c.json({ message: FORGOT_ANSWER }, 202);
};

export const resetPassword: RouteHandler<typeof routes.resetPassword, AppEnv> = async (c) => {
  const { token, password } = c.req.valid("json");
  await resetWithToken(c.env, token, password, Date.now());
  return c.body(null, 204);
};

export const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
  const { current_password, new_password } = c.req.valid("json");
  const signedIn = await changeOwnPassword(
    c.env,
    c.get("user").id,
    { current: current_password, next: new_password },
    Date.now(),
  );
  return c.json(byCookie(c) ? consoleSession(c, signedIn) : tokenPair(c, signedIn), 200);
};

export const logoutAll: RouteHandler<typeof routes.logoutAll, AppEnv> = async (c) => {
  const db = getDb(c.env.DB);
  await db.batch([...endEverySignIn(db, c.get("user").id, Date.now())]);
  if (byCookie(c)) clearSessionCookies(c);
  return c.body(null, 204);
};

export const config: RouteHandler<typeof routes.config, AppEnv> = async (c) =>
  c.json({ signup: settings(c.env).allowSignup }, 200);

export const consoleSignIn: RouteHandler<typeof routes.consoleSignIn, AppEnv> = async (c) => {
  const { email, password } = c.req.valid("json");
  const signedIn = await signInWithPassword(
    c.env,
    { email, password, deviceToken: presentedDeviceToken(c, undefined), client: await clientKey(c) },
    Date.now(),
  );
  return c.json(consoleSession(c, signedIn), 200);
};

export const consoleRegister: RouteHandler<typeof routes.consoleRegister, AppEnv> = async (c) => {
  const signedIn = await registerMember(c.env, c.req.valid("json"), await clientKey(c), Date.now());
  c.header("Location", "/api/v1/auth/me");
  return c.json(consoleSession(c, signedIn), 201);
};

export const consoleRefresh: RouteHandler<typeof routes.consoleRefresh, AppEnv> = async (c) => {
  const presented = refreshCookie(c);
  try {
    if (!presented) throw new ApiError("unauthorized", "No console sign-in: sign in again.");
    return c.json(consoleSession(c, await rotateSignIn(c.env, presented, Date.now())), 200);
  } catch (error) {
    // A refused refresh leaves nothing behind that looks like a sign-in.
    if (error instanceof ApiError && error.code === "unauthorized") clearSessionCookies(c);
    throw error;
  }
};

export const consoleSignOut: RouteHandler<typeof routes.consoleSignOut, AppEnv> = async (c) => {
  const presented = refreshCookie(c);
  if (presented) {
    await endSignIn(c.env, presented);
  } else {
    // Only the access cookie is left: its own sign-in (`sid`) ends; a token that does not verify names none.
    const access = getCookie(c, ACCESS_COOKIE);
    const claims = access ? await verifyAccessToken(c.env, access).catch(() => null) : null;
    if (claims?.sessionId) await endSignInById(c.env, claims.sessionId);
  }
  clearSessionCookies(c);
  return c.body(null, 204);
};
