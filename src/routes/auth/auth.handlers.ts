import type { Context } from "hono";
import { requestPasswordReset, resendVerificationMail } from "../../auth/account-mail";
import { toUser } from "../../auth/accounts";
import { clientKey } from "../../auth/client";
import { clearSessionCookies, sessionCookies, setSessionCookies } from "../../auth/console";
import { presentedDeviceToken, setDeviceCookie } from "../../auth/device";
import {
  changePassword as changeOwnPassword,
  resetPassword as resetWithToken,
  verifyEmail as verifyWithToken,
} from "../../auth/recovery";
import {
  endConsoleSignIn,
  endEverySignIn,
  endSignIn,
  registerMember,
  rotateSignIn,
  type SignedIn,
  signInWithPassword,
} from "../../auth/sign-in";
import type { AppEnv, Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { API_PREFIX } from "../../lib/openapi";
import { settings } from "../../lib/settings";
import type * as routes from "./auth.routes";

/**
 * The auth routes: each validates (the route does), calls the account logic in src/auth/, and shapes the answer: a
 * token pair in JSON for Bearer clients, or cookies and a ConsoleSession for the console.
 */

/** A Bearer client's answer: the tokens in the body (and the device token as its cookie too). */
function tokenPair<E extends AppEnv>(c: Context<E>, signedIn: SignedIn) {
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
function consoleSession<E extends AppEnv>(c: Context<E>, signedIn: SignedIn) {
  setSessionCookies(c, signedIn);
  if (signedIn.deviceToken) setDeviceCookie(c, signedIn.deviceToken);
  return {
    user: toUser(signedIn.user),
    expires_in: signedIn.accessExpiresIn,
    refresh_expires_in: signedIn.refreshExpiresIn,
  };
}

/** A signed-in request that came without Authorization came by the console's cookie (requireCaller took it). */
const byCookie = <E extends AppEnv>(c: Context<E>) => c.req.header("authorization") === undefined;

export const register: Handler<typeof routes.register> = async (c) => {
  const signedIn = await registerMember(c.env, c.var.db, c.req.valid("json"), await clientKey(c), Date.now());
  c.header("Location", `${API_PREFIX}/auth/me`);
  return c.json(tokenPair(c, signedIn), 201);
};

export const login: Handler<typeof routes.login> = async (c) => {
  const { email, password, device_token } = c.req.valid("json");
  const signedIn = await signInWithPassword(
    c.env,
    c.var.db,
    { email, password, deviceToken: presentedDeviceToken(c, device_token), client: await clientKey(c) },
    Date.now(),
  );
  return c.json(tokenPair(c, signedIn), 200);
};

export const refresh: Handler<typeof routes.refresh> = async (c) => {
  const signedIn = await rotateSignIn(c.env, c.var.db, c.req.valid("json").refresh_token, Date.now());
  return c.json(tokenPair(c, signedIn), 200);
};

export const logout: Handler<typeof routes.logout> = async (c) => {
  await endSignIn(c.var.db, c.req.valid("json").refresh_token);
  return c.body(null, 204);
};

// The caller's row, read by requireCaller's check in the same round trip: no second read.
export const me: Handler<typeof routes.me> = async (c) => c.json(toUser(await c.var.caller.row()), 200);

export const verifyEmail: Handler<typeof routes.verifyEmail> = async (c) => {
  await verifyWithToken(c.var.db, c.req.valid("json").token, Date.now());
  return c.body(null, 204);
};

export const resendVerification: Handler<typeof routes.resendVerification> = async (c) => {
  await resendVerificationMail(c.env, c.var.db, await c.var.caller.row(), Date.now());
  return c.json({ message: "A mail is on its way." }, 202);
};

export const forgotPassword: Handler<typeof routes.forgotPassword> = async (c) => {
  // The same answer for every address: the lookup and the mail happen off the request path (the mail consumer).
  await requestPasswordReset(c.env, c.var.db, c.req.valid("json").email, await clientKey(c), Date.now());
  return c.json({ message: "If that address has an account, a mail with a reset link is on its way." }, 202);
};

export const resetPassword: Handler<typeof routes.resetPassword> = async (c) => {
  const { token, password } = c.req.valid("json");
  await resetWithToken(c.env, c.var.db, token, password, Date.now());
  return c.body(null, 204);
};

export const changePassword: Handler<typeof routes.changePassword> = async (c) => {
  const { current_password, new_password } = c.req.valid("json");
  const signedIn = await changeOwnPassword(
    c.env,
    c.var.db,
    c.var.caller.id,
    { current: current_password, next: new_password },
    Date.now(),
  );
  return c.json(byCookie(c) ? consoleSession(c, signedIn) : tokenPair(c, signedIn), 200);
};

export const logoutAll: Handler<typeof routes.logoutAll> = async (c) => {
  const { db, caller } = c.var;
  await db.batch([...endEverySignIn(db, caller.id, Date.now())]);
  if (byCookie(c)) clearSessionCookies(c);
  return c.body(null, 204);
};

export const config: Handler<typeof routes.config> = async (c) => c.json({ signup: settings(c.env).allowSignup }, 200);

export const consoleSignIn: Handler<typeof routes.consoleSignIn> = async (c) => {
  const { email, password } = c.req.valid("json");
  const signedIn = await signInWithPassword(
    c.env,
    c.var.db,
    { email, password, deviceToken: presentedDeviceToken(c, undefined), client: await clientKey(c) },
    Date.now(),
  );
  return c.json(consoleSession(c, signedIn), 200);
};

export const consoleRegister: Handler<typeof routes.consoleRegister> = async (c) => {
  const signedIn = await registerMember(c.env, c.var.db, c.req.valid("json"), await clientKey(c), Date.now());
  c.header("Location", `${API_PREFIX}/auth/me`);
  return c.json(consoleSession(c, signedIn), 201);
};

export const consoleRefresh: Handler<typeof routes.consoleRefresh> = async (c) => {
  const { refresh } = sessionCookies(c);
  try {
    if (!refresh) throw new ApiError("unauthorized", "No console sign-in: sign in again.");
    return c.json(consoleSession(c, await rotateSignIn(c.env, c.var.db, refresh, Date.now())), 200);
  } catch (error) {
    // A refused refresh leaves nothing behind that looks like a sign-in.
    if (error instanceof ApiError && error.code === "unauthorized") clearSessionCookies(c);
    throw error;
  }
};

export const consoleSignOut: Handler<typeof routes.consoleSignOut> = async (c) => {
  await endConsoleSignIn(c.env, c.var.db, sessionCookies(c));
  clearSessionCookies(c);
  return c.body(null, 204);
};
