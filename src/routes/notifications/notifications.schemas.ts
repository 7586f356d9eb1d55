import { z } from "@hono/zod-openapi";
import { PaginationQuery, pageSchema } from "../../lib/pagination";

export const NotificationSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().openapi({ example: "task.expiring" }),
    title: z.string().openapi({
      example: "Task expiring: Renew the domain",
      description: "Plain text: escape it when rendering HTML.",
    }),
    body: z.string().openapi({ description: "Plain text, one line." }),
    entity_type: z.string().nullable().openapi({ example: "task" }),
    entity_id: z.string().nullable(),
    payload: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "The data the notice was made from." }),
    read: z.boolean(),
    read_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("Notification");

export const NotificationPageSchema = pageSchema(NotificationSchema, "NotificationPage");

export const NotificationListQuery = PaginationQuery.extend({
  unread: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "unread", in: "query" },
      description: "`true`: only notifications not yet read; `false`: only read ones. Omitted: all.",
      example: "true",
    }),
});
