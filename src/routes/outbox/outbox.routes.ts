import { createRoute } from "@hono/zod-openapi";
import { requireCaller, requireRole } from "../../auth/require-auth";
import { bearerSecurity, errorResponses, jsonContent, UuidParam } from "../../lib/openapi";
import { OutboxDetailSchema, OutboxListQuery, OutboxPageSchema } from "./outbox.schemas";

const tags = ["outbox"];
const adminOnly: [typeof requireCaller, ReturnType<typeof requireRole>] = [requireCaller, requireRole("admin")];

export const list = createRoute({
  method: "get",
  path: "/admin/outbox",
  operationId: "listOutbox",
  tags,
  summary: "List every mail and its delivery state (admin)",
  description:
    "One row per recipient of every mail the app queued, newest first unless `ordering` says otherwise, with its " +
    "status, the number of tries and the last error. Filter with `status` and `kind`. Bodies are left out; read one " +
    "mail for them. Admins and the superuser only.",
  security: bearerSecurity,
  middleware: adminOnly,
  request: { query: OutboxListQuery },
  responses: {
    200: jsonContent(OutboxPageSchema, "A page of mail"),
    ...errorResponses(400, 401, 403),
  },
});

export const get = createRoute({
  method: "get",
  path: "/admin/outbox/{id}",
  operationId: "getOutboxMail",
  tags,
  summary: "Read one mail with its bodies (admin)",
  description:
    "The mail as it was (or will be) sent: subject, plain-text and HTML bodies, status and tries. Useful to see " +
    "what a `recorded` mail would have said. Admins and the superuser only.",
  security: bearerSecurity,
  middleware: adminOnly,
  request: { params: UuidParam("id") },
  responses: {
    200: jsonContent(OutboxDetailSchema, "The mail"),
    ...errorResponses(400, 401, 403, 404),
  },
});
