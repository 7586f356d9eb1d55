import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { requireUser } from "../../auth/require-auth";
import type { AppEnv } from "../../env";
import { boolVar } from "../../lib/config";
import { ApiError } from "../../lib/errors";
import { BODY_ERRORS, bearerSecurity, errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import { UserSchema } from "../users/users.schemas";
import { LoginBody, RefreshTokenBody, RegisterBody, TokenPairSchema } from "./auth.schemas";

const tags = ["auth"];

/** Runs before body validation, so a closed sign-up says so whatever was sent. */
const signupOpen = createMiddleware<AppEnv>(async (c, next) => {
  if (!boolVar(c.env.ALLOW_SIGNUP, true)) {
    throw new ApiError("forbidden", "Sign-up is disabled on this deployment; ask an administrator for an account.");
  }
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
    "When the deployment sets `ALLOW_SIGNUP=false` this answers 403 for everyone (accounts are then made by admins " +
    "through POST /users).",
  middleware: [signupOpen] as const,
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonContent(TokenPairSchema, "Account created; signed in"),
    ...errorResponses(...BODY_ERRORS, 403, 409),
  },
});

export const login = createRoute({
  operationId: "login",
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Sign in with email and password",
  description:
    "Returns a 15-minute access token and a single-use refresh token. An unknown email and a wrong password get the " +
    "same 401 body after the same password-hashing work. Failed attempts are counted per account and per client " +
    "address in fixed windows (`LOGIN_MAX_FAILURES` per `LOGIN_WINDOW_SECONDS`; an address may fail 4 times as " +
    "often); past the limit every attempt is a 429 with `Retry-After` until the window ends.",
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
    "Presenting a token that was already rotated is treated as theft: the answer is 401 and every token of that " +
    "sign-in (its family) is revoked, including the newest one. Expired, revoked, unknown or malformed tokens: 401.",
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
    "Revokes the presented refresh token and every token rotated from the same sign-in. Idempotent: an unknown or " +
    "already revoked token also answers 204 (RFC 7009). Access tokens already issued expire on their own (15 minutes).",
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
  description: "Read from the database on every request, so a role change or deletion shows at once.",
  security: bearerSecurity,
  middleware: [requireUser] as const,
  responses: {
    200: jsonContent(UserSchema, "The caller"),
    ...errorResponses(401),
  },
});
