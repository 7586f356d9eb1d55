import { z } from "@hono/zod-openapi";
import { OUTBOX_STATUSES } from "../../db/schema";
import { queryPatterns } from "../../lib/openapi";
import { PaginationQuery, pageSchema } from "../../lib/pagination";
import { MAIL_KINDS } from "../../mail/enqueue";

export const OUTBOX_ORDERING = ["created_at", "updated_at", "attempts"] as const;

export const OutboxStatusSchema = z.enum(OUTBOX_STATUSES).openapi({
  description:
    "`queued`: waiting for its first try. `retrying`: a try failed in a way worth repeating (5xx, 429, network). " +
    "`sent`: MailChannels accepted it. `failed`: refused for good (other 4xx) or dead-lettered after the last retry. " +
    "`recorded`: no MAILCHANNELS_API_KEY is configured, so it was logged instead of sent. " +
    "`suppressed`: recorded but never sent nor retried; `suppressed_reason` says why (a mail budget was spent, or " +
    "the address is not verified).",
});

export const OutboxItemSchema = z
  .object({
    id: z.uuid().openapi({ description: "Also the body of its message on the `mail` queue." }),
    recipient_email: z.string().openapi({ example: "jane@example.com" }),
    recipient_name: z.string().nullable(),
    subject: z.string(),
    kind: z.string().openapi({ example: "task.expiring" }),
    entity_type: z.string().nullable().openapi({ example: "task" }),
    entity_id: z.string().nullable(),
    status: OutboxStatusSchema,
    attempts: z.number().int().openapi({ description: "Tries made so far (each one a call to the provider)." }),
    last_error: z
      .string()
      .nullable()
      .openapi({ description: "The provider's message or the network error of the last failed try." }),
    suppressed_reason: z
      .string()
      .nullable()
      .openapi({
        description:
          "Why a `suppressed` mail was not sent: `recipient_budget` (MAIL_MAX_PER_RECIPIENT_HOUR spent), " +
          "`actor_budget` (MAIL_MAX_PER_ACTOR_HOUR spent) or `recipient_unverified`; null otherwise.",
        example: "recipient_budget",
      }),
    actor_id: z
      .string()
      .nullable()
      .openapi({ description: "The user whose action caused the mail; null for system mail (the expiry scan)." }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    sent_at: z.iso.datetime().nullable(),
  })
  .openapi("OutboxItem");

export const OutboxDetailSchema = OutboxItemSchema.extend({
  text_body: z.string(),
  html_body: z.string().openapi({ description: "Every user-supplied value in it is HTML-escaped." }),
}).openapi("OutboxDetail");

export const OutboxPageSchema = pageSchema(OutboxItemSchema, "OutboxPage");

export const OutboxListQuery = PaginationQuery.extend({
  status: z
    .enum(OUTBOX_STATUSES)
    .optional()
    .openapi({ param: { name: "status", in: "query" }, description: "Only mail in this status." }),
  kind: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({
      param: { name: "kind", in: "query" },
      description: `Only mail of this kind (${MAIL_KINDS.join(", ")}).`,
      example: "product.changed",
    }),
  ordering: z
    .string()
    .max(32)
    .optional()
    .openapi({
      param: { name: "ordering", in: "query" },
      pattern: queryPatterns.ordering(OUTBOX_ORDERING),
      description: `One of ${OUTBOX_ORDERING.join(", ")}; prefix \`-\` for descending. Default \`-created_at\`.`,
      example: "-created_at",
    }),
});
