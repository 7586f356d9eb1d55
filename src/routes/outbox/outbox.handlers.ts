import { and, asc, count, desc, eq, type SQL } from "drizzle-orm";
import { outbox } from "../../db/schema";
import type { Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { parseOrdering } from "../../lib/ordering";
import { page } from "../../lib/pagination";
import { toIso } from "../../lib/time";
import type * as routes from "./outbox.routes";
import { OUTBOX_ORDERING } from "./outbox.schemas";

const orderColumns = { created_at: outbox.createdAt, updated_at: outbox.updatedAt, attempts: outbox.attempts };

const summaryColumns = {
  id: outbox.id,
  recipientEmail: outbox.recipientEmail,
  recipientName: outbox.recipientName,
  subject: outbox.subject,
  kind: outbox.kind,
  entityType: outbox.entityType,
  entityId: outbox.entityId,
  status: outbox.status,
  attempts: outbox.attempts,
  lastError: outbox.lastError,
  suppressedReason: outbox.suppressedReason,
  actorId: outbox.actorId,
  createdAt: outbox.createdAt,
  updatedAt: outbox.updatedAt,
  sentAt: outbox.sentAt,
};

type Summary = { [K in keyof typeof summaryColumns]: (typeof outbox.$inferSelect)[K] };

function toItem(row: Summary) {
  return {
    id: row.id,
    recipient_email: row.recipientEmail,
    recipient_name: row.recipientName,
    subject: row.subject,
    kind: row.kind,
    entity_type: row.entityType,
    entity_id: row.entityId,
    status: row.status,
    attempts: row.attempts,
    last_error: row.lastError,
    suppressed_reason: row.suppressedReason,
    actor_id: row.actorId,
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
    sent_at: toIso(row.sentAt),
  };
}

export const list: Handler<typeof routes.list> = async (c) => {
  const query = c.req.valid("query");
  const ordering = parseOrdering(query.ordering, OUTBOX_ORDERING, { field: "created_at", direction: "desc" });
  const filters: SQL[] = [];
  if (query.status) filters.push(eq(outbox.status, query.status));
  if (query.kind) filters.push(eq(outbox.kind, query.kind));
  const where = filters.length > 0 ? and(...filters) : undefined;
  const sort = ordering.direction === "desc" ? desc : asc;

  const { db } = c.var;
  const [rows, totals] = await db.batch([
    db
      .select(summaryColumns)
      .from(outbox)
      .where(where)
      // The id breaks ties so pages never overlap or skip rows written in the same millisecond.
      .orderBy(sort(orderColumns[ordering.field]), sort(outbox.id))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(outbox).where(where),
  ]);
  return c.json(page(rows.map(toItem), totals[0]?.total ?? 0, query), 200);
};

export const get: Handler<typeof routes.get> = async (c) => {
  const { id } = c.req.valid("param");
  const [row] = await c.var.db.select().from(outbox).where(eq(outbox.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "No mail with that id.");
  // An account mail's token is not in its bodies (a placeholder stands there; src/mail/seal.ts).
  return c.json({ ...toItem(row), text_body: row.textBody, html_body: row.htmlBody }, 200);
};
