import { and, count, desc, eq, isNotNull, isNull, type SQL } from "drizzle-orm";
import { notifications } from "../../db/schema";
import type { Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { page } from "../../lib/pagination";
import { toIso } from "../../lib/time";
import type * as routes from "./notifications.routes";

function toNotification(row: typeof notifications.$inferSelect) {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    entity_type: row.entityType,
    entity_id: row.entityId,
    payload: row.payload ?? null,
    read: row.readAt !== null,
    read_at: toIso(row.readAt),
    created_at: toIso(row.createdAt),
  };
}

export const list: Handler<typeof routes.list> = async (c) => {
  const query = c.req.valid("query");
  const { db, caller } = c.var;
  const filters: SQL[] = [eq(notifications.userId, caller.id)];
  if (query.unread === "true") filters.push(isNull(notifications.readAt));
  if (query.unread === "false") filters.push(isNotNull(notifications.readAt));
  const where = and(...filters);
  const [rows, totals] = await db.batch([
    db
      .select()
      .from(notifications)
      .where(where)
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(notifications).where(where),
  ]);
  return c.json(page(rows.map(toNotification), totals[0]?.total ?? 0, query), 200);
};

export const markRead: Handler<typeof routes.markRead> = async (c) => {
  const { id } = c.req.valid("param");
  const { db, caller } = c.var;
  const mine = and(eq(notifications.id, id), eq(notifications.userId, caller.id));
  // One round trip: set read_at only if still unread (keeping the first time), then read the row back.
  const [, rows] = await db.batch([
    db
      .update(notifications)
      .set({ readAt: Date.now() })
      .where(and(mine, isNull(notifications.readAt))),
    db.select().from(notifications).where(mine).limit(1),
  ]);
  const row = rows[0];
  // Someone else's notification answers exactly like a missing one, so ids cannot be probed.
  if (!row) throw new ApiError("not_found", "No notification of yours with that id.");
  return c.json(toNotification(row), 200);
};
