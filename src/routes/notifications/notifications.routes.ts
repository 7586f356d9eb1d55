import { createRoute } from "@hono/zod-openapi";
import { requireCaller } from "../../auth/require-auth";
import { bearerSecurity, errorResponses, jsonContent, UuidParam } from "../../lib/openapi";
import { NotificationListQuery, NotificationPageSchema, NotificationSchema } from "./notifications.schemas";

const tags = ["notifications"];

export const list = createRoute({
  method: "get",
  path: "/notifications",
  operationId: "listNotifications",
  tags,
  summary: "List my notifications",
  description:
    "The caller's own in-app notifications (task expiry notices, product changes for admins), newest first. " +
    "`unread=true` keeps only those not yet read. Every notification also went out by mail (see the outbox). " +
    "Notifications are kept NOTIFICATION_RETENTION_DAYS (90 by default), read or not.",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  request: { query: NotificationListQuery },
  responses: {
    200: jsonContent(NotificationPageSchema, "A page of the caller's notifications"),
    ...errorResponses(400, 401),
  },
});

export const markRead = createRoute({
  method: "post",
  path: "/notifications/{id}/read",
  operationId: "markNotificationRead",
  tags,
  summary: "Mark one of my notifications read",
  description:
    "Sets `read_at` once; marking an already read notification again keeps the first time and answers 200. " +
    "Someone else's notification is a 404, the same as one that does not exist.",
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  request: { params: UuidParam("id") },
  responses: {
    200: jsonContent(NotificationSchema, "The notification, read"),
    ...errorResponses(400, 401, 404),
  },
});
