import { eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { z } from "zod";
import { type Db, getDb } from "../db/client";
import { processedMessages, products, productViewsDaily } from "../db/schema";
import { log } from "../lib/log";
import { settings } from "../lib/settings";
import { utcDay } from "../lib/time";
import { applyGroup } from "./backoff";

/** Sent by GET /products/{sku} for each anonymous read; `id` is ours (the idempotency key), `at` epoch ms. */
export type ProductViewMessage = { type: "product.view"; id: string; sku: string; at: number };

/** The queue's name, also what its processed_messages rows say. */
export const VIEWS_QUEUE = "views";
/** D1 allows at most 100 bound parameters a statement; a processed_messages row binds 3. */
const PROCESSED_ROWS_PER_STATEMENT = 33;
const ID_LOOKUP_CHUNK = 100;
const Uuid = z.uuid();

function isViewMessage(body: unknown): body is ProductViewMessage {
  const b = body as Partial<ProductViewMessage> | null;
  return (
    typeof b === "object" &&
    b !== null &&
    b.type === "product.view" &&
    typeof b.id === "string" &&
    b.id.length > 0 &&
    b.id.length <= 100 &&
    typeof b.sku === "string" &&
    Uuid.safeParse(b.sku).success &&
    typeof b.at === "number" &&
    Number.isFinite(b.at) &&
    Number.isFinite(new Date(b.at).getTime())
  );
}

/** Views per SKU and per (SKU, day) of the given messages. */
export function tallyViews(views: ProductViewMessage[]) {
  const perSku = new Map<string, number>();
  const perDay = new Map<string, { sku: string; day: string; views: number }>();
  for (const view of views) {
    perSku.set(view.sku, (perSku.get(view.sku) ?? 0) + 1);
    const day = utcDay(view.at);
    const key = `${view.sku}|${day}`;
    const entry = perDay.get(key) ?? { sku: view.sku, day, views: 0 };
    entry.views += 1;
    perDay.set(key, entry);
  }
  return { perSku, perDay: [...perDay.values()] };
}

/**
 * The views of `fresh` that fit in VIEWS_MAX_PER_DAY, counted over the whole catalog per UTC day (the days' totals so
 * far are one read of product_views_daily, at most one row per product and day). The rest are acknowledged without
 * being counted or recorded: past the budget a view costs no D1 row, so however many clients read the catalog, the
 * views counted in a day, and the processed_messages rows they keep for KEY_RETENTION_DAYS, stay under the budget
 * (give or take one batch per concurrent consumer, which may read the same total). A view of a product that no
 * longer exists adds to no total, which only a read racing the product's deletion can send.
 */
async function withinDailyBudget(db: Db, env: Env, fresh: Map<string, ProductViewMessage>) {
  if (fresh.size === 0) return fresh;
  const budget = settings(env).viewsMaxPerDay;
  const days = [...new Set([...fresh.values()].map((view) => utcDay(view.at)))];
  const totals = await db
    .select({ day: productViewsDaily.day, views: sql<number>`sum(${productViewsDaily.views})` })
    .from(productViewsDaily)
    .where(inArray(productViewsDaily.day, days))
    .groupBy(productViewsDaily.day);
  const left = new Map(days.map((day) => [day, budget]));
  for (const row of totals) left.set(row.day, budget - Number(row.views));
  const kept = new Map<string, ProductViewMessage>();
  for (const [id, view] of fresh) {
    const day = utcDay(view.at);
    const room = left.get(day) ?? 0;
    if (room <= 0) continue;
    left.set(day, room - 1);
    kept.set(id, view);
  }
  if (kept.size < fresh.size) {
    log("warn", "product views over the daily budget acknowledged without counting", {
      dropped: fresh.size - kept.size,
      budget,
    });
  }
  return kept;
}

/**
 * The consumer of the `views` queue (binding VIEWS_QUEUE), whose messages are `product.view`s: one UPDATE per SKU
 * (never one per view), one upsert per (SKU, day), and the message ids into processed_messages, all in ONE db.batch
 * (a transaction on D1). Redelivery is therefore harmless: ids already recorded are skipped, and should a concurrent
 * consumer record an id between our lookup and our batch, the primary key makes the whole batch fail and roll back,
 * and the retry skips it. Views of a SKU that no longer exists change nothing (the UPDATE matches no row, the daily
 * upsert inserts nothing). Views past the day's VIEWS_MAX_PER_DAY are acknowledged
 * without being counted (withinDailyBudget). All messages are acked when the batch commits and retried with backoff when it fails; a
 * malformed one is acknowledged at once (retrying cannot fix it). One log line per batch.
 */
export async function handleViewsBatch(batch: MessageBatch<unknown>, env: Env, now = Date.now()): Promise<void> {
  const valid: { message: Message<unknown>; view: ProductViewMessage }[] = [];
  for (const message of batch.messages) {
    if (isViewMessage(message.body)) valid.push({ message, view: message.body });
    else {
      // Kept out of the dead-letter queue: no retry can fix it.
      log("warn", "malformed views message acknowledged", { message_id: message.id });
      message.ack();
    }
  }
  if (valid.length > 0) await applyViews(valid, env, now);
  log("info", "views batch handled", {
    queue: batch.queue,
    messages: batch.messages.length,
    malformed: batch.messages.length - valid.length,
  });
}

async function applyViews(valid: { message: Message<unknown>; view: ProductViewMessage }[], env: Env, now: number) {
  const db = getDb(env.DB);
  await applyGroup(
    valid.map(({ message }) => message),
    "product views not applied",
    async () => {
      const ids = [...new Set(valid.map(({ view }) => view.id))];
      const seen = new Set<string>();
      for (let i = 0; i < ids.length; i += ID_LOOKUP_CHUNK) {
        const rows = await db
          .select({ id: processedMessages.id })
          .from(processedMessages)
          .where(inArray(processedMessages.id, ids.slice(i, i + ID_LOOKUP_CHUNK)));
        for (const row of rows) seen.add(row.id);
      }
      // Also drops a second copy of the same id inside this batch.
      const unseen = new Map<string, ProductViewMessage>();
      for (const { view } of valid) if (!seen.has(view.id) && !unseen.has(view.id)) unseen.set(view.id, view);
      const fresh = await withinDailyBudget(db, env, unseen);

      if (fresh.size > 0) {
        const { perSku, perDay } = tallyViews([...fresh.values()]);
        const statements: BatchItem<"sqlite">[] = [];
        for (const [sku, n] of perSku) {
          statements.push(
            db
              .update(products)
              .set({ views: sql`${products.views} + ${n}` })
              .where(eq(products.sku, sku)),
          );
        }
        for (const { sku, day, views } of perDay) {
          // INSERT … SELECT FROM products: no row for a SKU that is gone. The WHERE is also what SQLite's parser needs
          // to tell the upsert's ON CONFLICT from a join constraint.
          statements.push(
            db
              .insert(productViewsDaily)
              .select(
                db
                  .select({ sku: products.sku, day: sql`${day}`.as("day"), views: sql`${views}`.as("views") })
                  .from(products)
                  .where(eq(products.sku, sku)),
              )
              .onConflictDoUpdate({
                target: [productViewsDaily.sku, productViewsDaily.day],
                set: { views: sql`${productViewsDaily.views} + excluded.views` },
              }),
          );
        }
        const rows = [...fresh.keys()].map((id) => ({ id, queue: VIEWS_QUEUE, processedAt: now }));
        for (let i = 0; i < rows.length; i += PROCESSED_ROWS_PER_STATEMENT) {
          statements.push(db.insert(processedMessages).values(rows.slice(i, i + PROCESSED_ROWS_PER_STATEMENT)));
        }
        const [first, ...rest] = statements;
        await db.batch([first!, ...rest]);
      }
    },
  );
}
