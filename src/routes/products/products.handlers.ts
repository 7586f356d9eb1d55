import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, count, desc, eq, gte, inArray, isNull, lte, ne, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import { type Db, getDb } from "../../db/client";
import { productHistory, products, users } from "../../db/schema";
import type { AppEnv, AuthUser } from "../../env";
import { ApiError } from "../../lib/errors";
import { parseFieldSelection, pickFields } from "../../lib/fields";
import { errorFields, log } from "../../lib/log";
import { centsToPrice, formatCents, parsePriceParam, priceToCents } from "../../lib/money";
import { parseOrdering } from "../../lib/ordering";
import { page } from "../../lib/pagination";
import { toIso } from "../../lib/time";
import { mailStatements, sendQueued } from "../../mail/enqueue";
import type { ProductViewMessage } from "../../queues/product-views";
import type * as routes from "./products.routes";
import { PRODUCT_FIELDS, PRODUCT_ORDERING, type Product } from "./products.schemas";

type ProductRow = typeof products.$inferSelect;
type Action = "create" | "update" | "delete";
/** The fields an admin writes; what history records and mails describe. */
type Editable = { name: string; brand: string; priceCents: number };
type Change = { from: unknown; to: unknown };

export const ANONYMOUS_CACHE_CONTROL = "public, max-age=10";
export const SIGNED_IN_CACHE_CONTROL = "private, no-store";

export function toProduct(row: ProductRow): Product {
  return {
    sku: row.sku,
    name: row.name,
    brand: row.brand,
    price: centsToPrice(row.priceCents),
    views: row.views,
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
  };
}

/**
 * Field-by-field changes between two states (null = did not exist), prices in cents. A create lists every field
 * from null, a delete every field to null, an update only the fields whose value differs.
 */
export function diffProduct(
  before: Editable | null,
  after: Editable | null,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: number | string | null; to: number | string | null }> = {};
  const keys = [
    ["name", "name"],
    ["brand", "brand"],
    ["price", "priceCents"],
  ] as const;
  for (const [field, key] of keys) {
    const from = before ? before[key] : null;
    const to = after ? after[key] : null;
    if (from !== to) changes[field] = { from, to };
  }
  return changes;
}

/** Prices in a change set as the API shows them (12.5) or as people read them ("12.50"). */
function renderPrices(changes: Record<string, Change>, render: (cents: number) => unknown): Record<string, Change> {
  const price = changes.price;
  if (!price) return changes;
  const one = (value: unknown) => (typeof value === "number" ? render(value) : value);
  return { ...changes, price: { from: one(price.from), to: one(price.to) } };
}

async function findProduct(db: Db, sku: string): Promise<ProductRow> {
  const row = await db.select().from(products).where(eq(products.sku, sku)).get();
  if (!row) throw new ApiError("not_found", `No product with sku ${sku}.`);
  return row;
}

/** The row exactly as it was read (views aside, which the consumer changes all the time). */
function unchangedSince(row: ProductRow) {
  return and(
    eq(products.sku, row.sku),
    eq(products.updatedAt, row.updatedAt),
    eq(products.name, row.name),
    eq(products.brand, row.brand),
    eq(products.priceCents, row.priceCents),
  );
}

/**
 * Optimistic concurrency inside one db.batch(): the UPDATE or DELETE before this statement only matches the row as it
 * was read, and this statement aborts the whole batch (history and mails included) when that matched nothing, i.e.
 * when another admin changed or deleted the product in between. SQLite has no RAISE() outside triggers, so the error
 * is json() of a non-JSON string; a D1 batch is one transaction, so nothing of it stays.
 */
function abortUnlessChanged(db: Db) {
  return db
    .select({ ok: sql<number>`CASE WHEN changes() = 0 THEN json('lost update') ELSE 1 END` })
    .from(sql`(SELECT 1)`);
}

/** Runs a change's batch; a lost race (see abortUnlessChanged) is a 409 rather than a 500. */
async function commitChange(db: Db, statements: [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]) {
  try {
    await db.batch(statements);
  } catch (error) {
    const text = `${error instanceof Error ? error.message : error} ${error instanceof Error ? error.cause : ""}`;
    if (/malformed JSON/i.test(text)) {
      throw new ApiError("conflict", "The product was changed by someone else meanwhile; read it again and retry.");
    }
    throw error;
  }
}

/**
 * The history row and the notice mails of one change, as statements for the caller's db.batch() (so the change,
 * its record and its mails commit together), plus the queue messages to send after the commit. Recipients: every
 * admin and the superuser who is not deleted and is not the actor.
 */
function recipientsQuery(db: Db, actor: AuthUser) {
  return db
    .select({ email: users.email, name: users.username })
    .from(users)
    .where(and(inArray(users.role, ["admin", "superuser"]), isNull(users.deletedAt), ne(users.id, actor.id)));
}

/** The product and the notice recipients in one round trip (both are needed before any change is planned). */
async function productAndRecipients(db: Db, sku: string, actor: AuthUser) {
  const [[row], recipients] = await db.batch([
    db.select().from(products).where(eq(products.sku, sku)),
    recipientsQuery(db, actor),
  ]);
  if (!row) throw new ApiError("not_found", `No product with sku ${sku}.`);
  return { existing: row, recipients };
}

async function changeRecord(
  db: Db,
  env: Env,
  actor: AuthUser,
  action: Action,
  product: ProductRow | (Editable & { sku: string }),
  changes: Record<string, Change>,
  now: number,
  knownRecipients?: { email: string; name: string }[],
) {
  const recipients = knownRecipients ?? (await recipientsQuery(db, actor));
  const mail = mailStatements(
    db,
    env,
    recipients,
    {
      kind: "product.changed",
      action,
      actor: { id: actor.id, username: actor.username },
      product: { sku: product.sku, name: product.name, brand: product.brand, price: formatCents(product.priceCents) },
      changes: renderPrices(changes, formatCents),
    },
    { type: "product", id: product.sku },
    now,
    { actorId: actor.id },
  );
  const history = db.insert(productHistory).values({
    id: crypto.randomUUID(),
    sku: product.sku,
    action,
    actorId: actor.id,
    changes: renderPrices(changes, centsToPrice),
    createdAt: now,
  });
  return { statements: [history, ...mail.statements], queueMessages: mail.queueMessages };
}

/** Runs after the response: the outbox rows are committed, so a failed send leaves them `queued`, never lost. */
function sendAfterResponse(c: Context<AppEnv>, queueMessages: Parameters<typeof sendQueued>[1]) {
  if (queueMessages.length === 0) return;
  const sending = sendQueued(c.env, queueMessages).catch((error) =>
    log("error", "product notice: queue send failed; outbox rows stay queued", {
      request_id: c.get("requestId"),
      ...errorFields(error),
    }),
  );
  c.executionCtx.waitUntil(sending);
}

/** Counts one view without delaying the response: the queue send runs after it, and a failure is only logged. */
function countView(c: Context<AppEnv>, sku: string) {
  const message: ProductViewMessage = { type: "product.view", id: crypto.randomUUID(), sku, at: Date.now() };
  const sending = c.env.ANALYTICS_QUEUE.send(message, { contentType: "json" }).catch((error) =>
    log("error", "product view: queue send failed; view not counted", { sku, ...errorFields(error) }),
  );
  c.executionCtx.waitUntil(sending);
}

/** A weak validator (RFC 9110 §8.8.1): equal tags mean semantically equivalent representations. */
export async function weakEtag(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value)));
  const hex = [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `W/"${hex}"`;
}

/** If-None-Match uses the weak comparison: `W/` is ignored on both sides; `*` matches any current representation. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  const wanted = opaque(etag);
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === wanted);
}

function cacheHeaders(c: Context<AppEnv>, etag: string, anonymous: boolean) {
  c.header("ETag", etag);
  c.header("Cache-Control", anonymous ? ANONYMOUS_CACHE_CONTROL : SIGNED_IN_CACHE_CONTROL);
  c.header("Vary", "Authorization", { append: true });
}

const currentUser = (c: Context<AppEnv>) => c.get("user") as AuthUser | undefined;

const ORDER_COLUMNS = {
  name: products.name,
  price: products.priceCents,
  created_at: products.createdAt,
  updated_at: products.updatedAt,
  views: products.views,
} as const;

function priceBound(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const cents = parsePriceParam(text);
  if (cents === null) {
    throw new ApiError("bad_request", `Invalid ${name}.`, {
      errors: [{ path: name, message: "a price from 0 to 1000000 with at most two decimals" }],
    });
  }
  return cents;
}

/** `%`, `_` and `\` in a search term are literal. */
export const listProducts: RouteHandler<typeof routes.listProducts, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const selected = parseFieldSelection(PRODUCT_FIELDS, query.fields, query.omit);
  const ordering = parseOrdering(query.ordering, PRODUCT_ORDERING, { field: "created_at", direction: "desc" });
  const min = priceBound("min_price", query.min_price);
  const max = priceBound("max_price", query.max_price);
  if (min !== undefined && max !== undefined && min > max) {
    throw new ApiError("bad_request", "min_price is above max_price.", {
      errors: [{ path: "min_price", message: "must not exceed max_price" }],
    });
  }
  const conditions: SQL[] = [];
  if (query.brand) conditions.push(eq(products.brand, query.brand));
  // A literal, case-insensitive substring at any length: instr() has no pattern syntax and no length limit (D1
  // refuses LIKE patterns over 50 bytes).
  if (query.q) conditions.push(sql`instr(lower(${products.name}), lower(${query.q})) > 0`);
  if (min !== undefined) conditions.push(gte(products.priceCents, min));
  if (max !== undefined) conditions.push(lte(products.priceCents, max));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const column = ORDER_COLUMNS[ordering.field];

  const db = getDb(c.env.DB);
  // One batch, so the page and the total come from the same snapshot.
  const [rows, [totals]] = await db.batch([
    db
      .select()
      .from(products)
      .where(where)
      .orderBy(ordering.direction === "asc" ? asc(column) : desc(column), asc(products.sku))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ n: count() }).from(products).where(where),
  ]);
  const body = page(
    rows.map((row) => pickFields(toProduct(row), selected)),
    totals?.n ?? 0,
    query,
  );
  const etag = await weakEtag(body);
  cacheHeaders(c, etag, !currentUser(c));
  if (etagMatches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
  return c.json(body, 200);
};

export const getProduct: RouteHandler<typeof routes.getProduct, AppEnv> = async (c) => {
  const { sku } = c.req.valid("param");
  const row = await findProduct(getDb(c.env.DB), sku);
  const product = toProduct(row);
  const anonymous = !currentUser(c);
  // HEAD (served by this handler too) transfers no product, so it is not a view.
  if (anonymous && c.req.method === "GET") countView(c, sku);
  // views is left out of the validator: counting views must not invalidate every cached copy of the product.
  const { views: _views, ...stable } = product;
  const etag = await weakEtag(stable);
  cacheHeaders(c, etag, anonymous);
  if (etagMatches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
  return c.json(product, 200);
};

export const createProduct: RouteHandler<typeof routes.createProduct, AppEnv> = async (c) => {
  const actor = c.get("user");
  const body = c.req.valid("json");
  const now = Date.now();
  const row: ProductRow = {
    sku: crypto.randomUUID(),
    name: body.name,
    brand: body.brand,
    priceCents: priceToCents(body.price),
    views: 0,
    createdAt: now,
    updatedAt: now,
  };
  const db = getDb(c.env.DB);
  const record = await changeRecord(db, c.env, actor, "create", row, diffProduct(null, row), now);
  await db.batch([db.insert(products).values(row), ...record.statements]);
  sendAfterResponse(c, record.queueMessages);
  return c.json(toProduct(row), 201, { Location: `/api/v1/products/${row.sku}` });
};

/** PUT and PATCH: only changed fields are written, recorded and mailed; no change, no write. */
async function update(c: Context<AppEnv>, sku: string, body: { name?: string; brand?: string; price?: number }) {
  const actor = c.get("user");
  const db = getDb(c.env.DB);
  const { existing, recipients } = await productAndRecipients(db, sku, actor);
  const next: Editable = {
    name: body.name ?? existing.name,
    brand: body.brand ?? existing.brand,
    priceCents: body.price === undefined ? existing.priceCents : priceToCents(body.price),
  };
  const changes = diffProduct(existing, next);
  if (Object.keys(changes).length === 0) return toProduct(existing);
  const now = Date.now();
  const record = await changeRecord(db, c.env, actor, "update", { sku, ...next }, changes, now, recipients);
  await commitChange(db, [
    db
      .update(products)
      .set({ ...next, updatedAt: now })
      .where(unchangedSince(existing)),
    abortUnlessChanged(db),
    ...record.statements,
  ]);
  sendAfterResponse(c, record.queueMessages);
  return toProduct({ ...existing, ...next, updatedAt: now });
}

export const replaceProduct: RouteHandler<typeof routes.replaceProduct, AppEnv> = async (c) => {
  const { sku } = c.req.valid("param");
  return c.json(await update(c, sku, c.req.valid("json")), 200);
};

export const patchProduct: RouteHandler<typeof routes.patchProduct, AppEnv> = async (c) => {
  const { sku } = c.req.valid("param");
  return c.json(await update(c, sku, c.req.valid("json")), 200);
};

export const deleteProduct: RouteHandler<typeof routes.deleteProduct, AppEnv> = async (c) => {
  const { sku } = c.req.valid("param");
  const actor = c.get("user");
  const db = getDb(c.env.DB);
  const { existing, recipients } = await productAndRecipients(db, sku, actor);
  const now = Date.now();
  const record = await changeRecord(db, c.env, actor, "delete", existing, diffProduct(existing, null), now, recipients);
  await commitChange(db, [
    db.delete(products).where(unchangedSince(existing)),
    abortUnlessChanged(db),
    ...record.statements,
  ]);
  sendAfterResponse(c, record.queueMessages);
  return c.body(null, 204);
};

export const productHistoryList: RouteHandler<typeof routes.productHistory, AppEnv> = async (c) => {
  const { sku } = c.req.valid("param");
  const { limit, offset } = c.req.valid("query");
  const db = getDb(c.env.DB);
  const [rows, [totals], exists] = await db.batch([
    db
      .select({
        id: productHistory.id,
        sku: productHistory.sku,
        action: productHistory.action,
        actorId: productHistory.actorId,
        username: users.username,
        changes: productHistory.changes,
        createdAt: productHistory.createdAt,
      })
      .from(productHistory)
      .leftJoin(users, eq(users.id, productHistory.actorId))
      .where(eq(productHistory.sku, sku))
      // rowid breaks ties between entries written in the same millisecond, in insertion order.
      .orderBy(desc(productHistory.createdAt), sql`${productHistory}.rowid DESC`)
      .limit(limit)
      .offset(offset),
    db.select({ n: count() }).from(productHistory).where(eq(productHistory.sku, sku)),
    db.select({ sku: products.sku }).from(products).where(eq(products.sku, sku)),
  ]);
  const total = totals?.n ?? 0;
  // Seeded products have no history yet; only a sku that never existed is a 404.
  if (total === 0 && exists.length === 0) throw new ApiError("not_found", `No product with sku ${sku}.`);
  const items = rows.map((row) => ({
    id: row.id,
    sku: row.sku,
    action: row.action,
    actor: { id: row.actorId, username: row.username },
    changes: row.changes,
    created_at: toIso(row.createdAt),
  }));
  return c.json(page(items, total, { limit, offset }), 200);
};
