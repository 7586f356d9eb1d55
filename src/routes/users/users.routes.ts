import { createRoute } from "@hono/zod-openapi";
import { requireCallerBatched, requireRole } from "../../auth/require-auth";
import { BODY_ERRORS, bearerSecurity, errorResponses, jsonBody, jsonContent, UuidParam } from "../../lib/openapi";
import { CreateUserBody, ListUsersQuery, UpdateUserBody, UserPageSchema, UserSchema } from "./users.schemas";

const tags = ["users"];
// The caller check joins each handler's first read (one batch); the handlers use only its id and role before it.
const adminOnly: [typeof requireCallerBatched, ReturnType<typeof requireRole>] = [
  requireCallerBatched,
  requireRole("admin"),
];
const RULES =
  "Admins and the superuser only. Admins manage members; only the superuser creates, changes or deletes admins. " +
  "The superuser itself can be neither changed nor deleted (403), and nobody may delete or demote themselves.";

export const list = createRoute({
  operationId: "listUsers",
  method: "get",
  path: "/users",
  tags,
  summary: "List users",
  description: `Live users, paged, newest first unless \`ordering\` says otherwise. ${RULES}`,
  security: bearerSecurity,
  middleware: adminOnly,
  request: { query: ListUsersQuery },
  responses: {
    200: jsonContent(UserPageSchema, "A page of users"),
    ...errorResponses(400, 401, 403),
  },
});

export const create = createRoute({
  operationId: "createUser",
  method: "post",
  path: "/users",
  tags,
  summary: "Create a user",
  description:
    "Creates a member, or (superuser only) an admin. The admin vouches for the address, so the account starts with " +
    "`email_verified: true`. 409 when the email or username is taken. Creations are limited per client address " +
    `(\`SIGNUP_MAX_PER_ADDRESS\` per \`SIGNUP_WINDOW_SECONDS\`; 429 with \`Retry-After\`). ${RULES}`,
  security: bearerSecurity,
  middleware: adminOnly,
  request: { body: jsonBody(CreateUserBody) },
  responses: {
    201: jsonContent(UserSchema, "Created; Location names the new user"),
    ...errorResponses(...BODY_ERRORS, 401, 403, 409, 429),
  },
});

export const get = createRoute({
  operationId: "getUser",
  method: "get",
  path: "/users/{id}",
  tags,
  summary: "Get a user",
  description: `Deleted users are 404. ${RULES}`,
  security: bearerSecurity,
  middleware: adminOnly,
  request: { params: UuidParam("id") },
  responses: {
    200: jsonContent(UserSchema, "The user"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const update = createRoute({
  operationId: "updateUser",
  method: "patch",
  path: "/users/{id}",
  tags,
  summary: "Change a user",
  description:
    "Changes any of email, username, password, role. A role change or a new password ends every access token the " +
    "user holds at once (the token version goes up, so changing the role back does not revive them); a new " +
    "password also ends their sessions (refresh tokens). An email set by an admin counts as verified. " +
    RULES,
  security: bearerSecurity,
  middleware: adminOnly,
  request: { params: UuidParam("id"), body: jsonBody(UpdateUserBody) },
  responses: {
    200: jsonContent(UserSchema, "The changed user"),
    ...errorResponses(...BODY_ERRORS, 401, 403, 404, 409),
  },
});

export const remove = createRoute({
  operationId: "deleteUser",
  method: "delete",
  path: "/users/{id}",
  tags,
  summary: "Delete a user",
  description:
    "Soft delete: the user can no longer sign in or refresh, existing access tokens stop working at once (token " +
    "version up), every refresh token is revoked and every mailed verification or reset token retired. The row stays so that what the user created (tasks) stays readable and attributed to " +
    "its id; the email and username are released for reuse. " +
    RULES,
  security: bearerSecurity,
  middleware: adminOnly,
  request: { params: UuidParam("id") },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses(400, 401, 403, 404),
  },
});
