import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { assertConsoleRequest } from "../../auth/console";
import { FORGOT_PER_CLIENT, FORGOT_WINDOW_MS } from "../../auth/rate-limit";
import { requireCaller } from "../../auth/require-auth";
import type { AppEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import { BODY_ERRORS, bearerSecurity, errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { settings } from "../../lib/settings";
import { UserSchema } from "../users/users.schemas";
import {
  AcceptedSchema,
  AuthConfigSchema,
  ChangePasswordBody,
  ConsoleSessionSchema,
  ConsoleSignInBody,
  ForgotPasswordBody,
  LoginBody,
  RefreshTokenBody,
  RegisterBody,
  ResetPasswordBody,
  TokenPairSchema,
  VerifyEmailBody,
} from "./auth.schemas";

const tags = ["auth"];

/** Runs before body validation, so a closed sign-up says so whatever was sent. */
const signupOpen = createMiddleware<AppEnv>(async (c, next) => {
  if (!settings(c.env).allowSignup) {
    throw new ApiError("forbidden", "Sign-up is disabled on this deployment; ask an administrator for an account.");
  }
  await next();
});

/** Runs before body validation: the console's sign-in routes answer only the console (X-Console and Origin). */
const consoleOnly = createMiddleware<AppEnv>(async (c, next) => {
  assertConsoleRequest(c);
  await next();
});

export const register = createRoute({
  operationId: "register",
  method: "post",
  path: "/auth/register",
  tags,
  summary: "Create a member account and sign in",
  description:
    "Creates a member and returns a token pair. The email is stored lower-case; without a username one is derived " +
    "from the email. Password: 8 to 128 characters, not equal to the email or username. " +
    "The account starts with `email_verified: false` and a verification mail (a single-use token, 24 hours) goes to " +
    "the address; until it is verified, that address gets no other mail. Sign-ups are limited per client address " +
    "(`SIGNUP_MAX_PER_ADDRESS` per `SIGNUP_WINDOW_SECONDS`; 429 with `Retry-After`). " +
    "When the deployment sets `ALLOW_SIGNUP=false` this answers 403 for everyone (accounts are then made by admins " +
    "through POST /users).",
  middleware: [signupOpen] as const,
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonContent(TokenPairSchema, "Account created; signed in"),
    ...errorResponses(...BODY_ERRORS, 403, 409, 429),
  },
});

export const login = createRoute({
  operationId: "login",
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Sign in with email and password",
  description:
    "Returns a 15-minute access token, a single-use refresh token and a device token. An unknown email and a wrong " +
    "password get the same 401 body after the same password-hashing work. Every attempt is counted before the " +
    "password is checked, atomically, per account and per client address in fixed windows (`LOGIN_MAX_FAILURES` per " +
    "`LOGIN_WINDOW_SECONDS`; an address 4 times as many), so parallel guesses check at most that many passwords; " +
    "past the limit every attempt is a 429 with `Retry-After` until the window ends. An attempt that presents a " +
    "valid device token for the account (`device_token` in the body or the cookie) is counted on that device alone, " +
    "so nobody else's failures lock its owner out. A success clears the account's (or device's) count.",
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: jsonContent(TokenPairSchema, "Signed in"),
    ...errorResponses(...BODY_ERRORS, 401, 429),
  },
});

export const refresh = createRoute({
  operationId: "refreshTokens",
  method: "post",
  path: "/auth/refresh",
  tags,
  summary: "Trade a refresh token for a new token pair",
  description:
    "Rotates: the presented token stops working and a new pair is returned (with the user's current role). " +
    "Presenting a token that was already rotated is treated as theft: the answer is 401 and the whole sign-in (its " +
    "family) ends, its newest refresh token and its access tokens included. Expired, revoked, unknown or malformed " +
    "tokens: 401.",
  request: { body: jsonBody(RefreshTokenBody) },
  responses: {
    200: jsonContent(TokenPairSchema, "Rotated"),
    ...errorResponses(...BODY_ERRORS, 401),
  },
});

export const logout = createRoute({
  operationId: "logout",
  method: "post",
  path: "/auth/logout",
  tags,
  summary: "Sign out: revoke the refresh token's whole family",
  description:
    "Ends the sign-in the refresh token belongs to: its refresh tokens, and at once the access tokens issued to it " +
    "(each names its sign-in in `sid`). Idempotent: an unknown or already revoked token also answers 204 (RFC 7009). " +
    "POST /auth/logout-all ends every sign-in of the user.",
  request: { body: jsonBody(RefreshTokenBody) },
  responses: {
    204: { description: "Signed out" },
    ...errorResponses(...BODY_ERRORS),
  },
});

export const me = createRoute({
  operationId: "getCurrentUser",
  method: "get",
  path: "/auth/me",
  tags,
  summary: "The signed-in user",
  description:
    "Read from the database on every request, so a role change or deletion shows at once. `email_verified` says " +
    "whether the address has been proven (mailed token or password reset) or vouched for (created by an admin).",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  responses: {
    200: jsonContent(UserSchema, "The caller"),
    ...errorResponses(401),
  },
});

export const verifyEmail = createRoute({
  operationId: "verifyEmail",
  method: "post",
  path: "/auth/verify-email",
  tags,
  summary: "Verify the account's email with the mailed token",
  description:
    "Spends the token from the verification mail (single use, valid 24 hours, only for the address it was sent " +
    "to) and marks the account's email verified. No sign-in needed: holding the mail is the proof. An unknown, " +
    "used, expired or superseded token, or one whose account was deleted or changed its email: 400.",
  request: { body: jsonBody(VerifyEmailBody) },
  responses: {
    204: { description: "Verified" },
    ...errorResponses(...BODY_ERRORS),
  },
});

export const resendVerification = createRoute({
  operationId: "resendVerificationEmail",
  method: "post",
  path: "/auth/verify-email/resend",
  tags,
  summary: "Mail a new verification token to the caller's address",
  description:
    "Retires the caller's earlier verification tokens and mails a new one. 409 when the address is already " +
    "verified; 429 with `Retry-After` past `ACCOUNT_MAIL_MAX_PER_HOUR` resends an hour, a budget of the account's " +
    "own that nobody else's requests (a stranger's forgot-password included) can spend.",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  responses: {
    202: jsonContent(AcceptedSchema, "Mail queued"),
    ...errorResponses(401, 409, 429),
  },
});

export const forgotPassword = createRoute({
  operationId: "forgotPassword",
  method: "post",
  path: "/auth/password/forgot",
  tags,
  summary: "Mail a password-reset token",
  description:
    "Always 202 with the same body, headers and database work whether or not the address has an account, so the " +
    "answer tells nothing about who is registered: the account is looked up and mailed off the request path. When " +
    "it has one, a link with a single-use reset token (30 minutes) is mailed to it, unless its newest link still " +
    "works and went out less than 1/`ACCOUNT_MAIL_MAX_PER_HOUR` of an hour ago (that mail is then in the inbox). " +
    `Requests per client address are limited (${FORGOT_PER_CLIENT} per ${FORGOT_WINDOW_MS / 60_000} minutes; 429 with \`Retry-After\`).`,
  request: { body: jsonBody(ForgotPasswordBody) },
  responses: {
    202: jsonContent(AcceptedSchema, "Accepted (whether or not the address is known)"),
    ...errorResponses(...BODY_ERRORS, 429),
  },
});

export const resetPassword = createRoute({
  operationId: "resetPassword",
  method: "post",
  path: "/auth/password/reset",
  tags,
  summary: "Set a new password with the mailed reset token",
  description:
    "Spends the reset token, sets the new password, ends every refresh token and every access token issued before " +
    "(the token version goes up) and, since the mail proved ownership, marks the email verified. Sign in afterwards. " +
    "An unknown, used, expired or superseded token, or one for a deleted account: 400. A password equal to the " +
    "email or username: 422 (the token stays unspent).",
  request: { body: jsonBody(ResetPasswordBody) },
  responses: {
    204: { description: "Password set; sign in with it" },
    ...errorResponses(...BODY_ERRORS),
  },
});

export const changePassword = createRoute({
  operationId: "changePassword",
  method: "post",
  path: "/auth/password/change",
  tags,
  summary: "Change the caller's password",
  description:
    "Checks the current password (403 when wrong; attempts counted like sign-in attempts, 429 past the limit), sets " +
    "the new one, ends every other session and access token (refresh tokens revoked, token version up) and returns " +
    "a fresh token pair for the caller; a console caller (cookie) gets a `ConsoleSession` and new cookies instead, " +
    "never tokens in the body. Does not change whether the email is verified.",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  request: { body: jsonBody(ChangePasswordBody) },
  responses: {
    200: {
      description: "Changed; the new pair (or, for the console, the new cookies) replaces every earlier token",
      content: { "application/json": { schema: z.union([TokenPairSchema, ConsoleSessionSchema]) } },
    },
    ...errorResponses(...BODY_ERRORS, 401, 403, 429),
  },
});

export const logoutAll = createRoute({
  operationId: "logoutAll",
  method: "post",
  path: "/auth/logout-all",
  tags,
  summary: "Sign out everywhere",
  description:
    "Revokes every refresh token of the caller and ends every access token issued so far, this one included " +
    "(the token version goes up). A console caller's cookies are cleared.",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  responses: {
    204: { description: "Signed out everywhere" },
    ...errorResponses(401),
  },
});

export const config = createRoute({
  operationId: "getAuthConfig",
  method: "get",
  path: "/auth/config",
  tags,
  summary: "What sign-in offers on this deployment",
  description: 'Anyone may ask; the console shows "Sign up" only when `signup` is true (`ALLOW_SIGNUP`).',
  responses: {
    200: jsonContent(AuthConfigSchema, "The sign-in options"),
  },
});

const CONSOLE_RULE =
  "For the console only: the request needs the header `X-Console: 1` and an `Origin` equal to PUBLIC_ORIGIN " +
  "(403 otherwise, checked before the body). The tokens are set as `__Host-access` and `__Host-refresh` cookies " +
  "(HttpOnly, Secure, SameSite=Strict, Path=/) and never appear in the body.";

export const consoleSignIn = createRoute({
  operationId: "consoleSignIn",
  method: "post",
  path: "/auth/session",
  tags,
  summary: "Console: sign in with email and password (cookies)",
  description: `${CONSOLE_RULE} The same limits, lockout, device-token and timing rules as POST /auth/login (the device token is read from its cookie, and a new one is set).`,
  middleware: [consoleOnly] as const,
  request: { body: jsonBody(ConsoleSignInBody) },
  responses: {
    200: jsonContent(ConsoleSessionSchema, "Signed in; the cookies are set"),
    ...errorResponses(...BODY_ERRORS, 401, 403, 429),
  },
});

export const consoleRegister = createRoute({
  operationId: "consoleRegister",
  method: "post",
  path: "/auth/session/register",
  tags,
  summary: "Console: create a member account and sign in (cookies)",
  description: `${CONSOLE_RULE} Otherwise as POST /auth/register: 403 when sign-up is off, 409 when taken, 429 past the sign-up limits; the verification mail goes out.`,
  middleware: [consoleOnly, signupOpen] as const,
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonContent(ConsoleSessionSchema, "Account created; signed in, the cookies are set"),
    ...errorResponses(...BODY_ERRORS, 403, 409, 429),
  },
});

export const consoleRefresh = createRoute({
  operationId: "consoleRefresh",
  method: "post",
  path: "/auth/session/refresh",
  tags,
  summary: "Console: rotate the sign-in's cookies",
  description: `${CONSOLE_RULE} Trades the \`__Host-refresh\` cookie as POST /auth/refresh trades a refresh token (reuse ends the whole sign-in). 401 (no, unknown, expired, revoked or reused refresh cookie) clears both cookies.`,
  middleware: [consoleOnly] as const,
  responses: {
    200: jsonContent(ConsoleSessionSchema, "Rotated; the new cookies are set"),
    ...errorResponses(401, 403),
  },
});

export const consoleSignOut = createRoute({
  operationId: "consoleSignOut",
  method: "delete",
  path: "/auth/session",
  tags,
  summary: "Console: sign out (cookies)",
  description: `${CONSOLE_RULE} Ends this sign-in (the refresh cookie's, or else the access cookie's): its refresh tokens and, at once, its access token. Clears both cookies. Idempotent: 204 without cookies too.`,
  middleware: [consoleOnly] as const,
  responses: {
    204: { description: "Signed out; the cookies are cleared" },
    ...errorResponses(403),
  },
});
