import type { z } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { addressKeyOf } from "../../auth/client";
import { products } from "../../db/schema";
import type { AppEnv, Handler, SignedInEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import { parseFieldSelection, pickFields } from "../../lib/fields";
import { errorFields, log } from "../../lib/log";
import { parsePriceParam, priceToCents } from "../../lib/money";
import { API_PREFIX } from "../../lib/openapi";
import { parseOrdering } from "../../lib/ordering";
import { page } from "../../lib/pagination";
import { toIso } from "../../lib/time";
import { sendQueued } from "../../mail/enqueue";
import type { ProductViewMessage } from "../../queues/views";
import {
  ANONYMOUS_CACHE_CONTROL,
  cached,
  itemKey,
  listKey,
  purge,
  SIGNED_IN_CACHE_CONTROL,
  store,
} from "./products.cache";
import { changeRecord, diffProduct, type Editable } from "./products.changes";
import {
  findProduct,
  historyQueries,
  listConditions,
  listProducts as listProductRows,
  type ProductRow,
  productAndRecipients,
  recipientsQuery,
  toProduct,
  unchangedSince,
} from "./products.queries";
import type * as routes from "./products.routes";
import {
  PRODUCT_FIELDS,
  PRODUCT_ORDERING,
  type ProductExportQuery,
  type ProductPageSchema,
  type ProductSchema,
} from "./products.schemas";

/** A weak validator (RFC 9110 §8.8.1): equal tags mean semantically equivalent representations. */
async function weakEtag(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(value)));
  const hex = [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `W/"${hex}"`;
}

/** Runs after the response: the outbox rows are committed, so a failed send leaves them `queued`, never lost. */
function sendAfterResponse<E extends AppEnv>(c: Context<E>, queueMessages: Parameters<typeof sendQueued>[1]) {
  if (queueMessages.length === 0) return;
  const sending = sendQueued(c.env, queueMessages).catch((error) =>
    log("error", "product notice: queue send failed; outbox rows stay queued", {
      request_id: c.get("requestId"),
      ...errorFields(error),
    }),
  );
  c.executionCtx.waitUntil(sending);
}

/**
 * Counts one view without delaying the response: the queue send runs after it, and a failure is only logged. A
 * client counts at most VIEW_LIMITER's views a minute (wrangler.toml; keyed like every per-client limit, loopback
 * in development not counted): past it the read is served as usual but not counted, so one client cannot fill the
 * views queue and the idempotency rows each counted view leaves in D1.
 */
function countView(c: Context<AppEnv>, sku: string) {
  const message: ProductViewMessage = { type: "product.view", id: crypto.randomUUID(), sku, at: Date.now() };
  const key = addressKeyOf(c);
  const sending = (key ? c.env.VIEW_LIMITER.limit({ key }) : Promise.resolve({ success: true }))
    .then(({ success }) => (success ? c.env.VIEWS_QUEUE.send(message, { contentType: "json" }) : undefined))
    .catch((error) =>
      log("error", "product view: queue send failed; view not counted", { sku, ...errorFields(error) }),
    );
  c.executionCtx.waitUntil(sending);
}

type Json<Schema extends z.ZodType> = TypedResponse<JSONParsed<z.output<Schema>>, 200, "json">;

/**
 * A cached 200 as this request's answer (conditionalGet turns it into a 304 when the ETag matches). Its body is the
 * text fresh() stored for the same route, so it is typed as that route's 200 without being parsed back.
 */
function hit<Schema extends z.ZodType>(stored: { body: string; headers: [string, string][] }): Json<Schema> {
  const headers = new Headers(stored.headers);
  headers.set("X-Cache", "HIT");
  return new Response(stored.body, { status: 200, headers }) as unknown as Json<Schema>;
}

/**
 * A 200 built from D1: anonymous answers are public for ANONYMOUS_MAX_AGE seconds and stored under `key` (as the
 * text hit() answers later); signed-in ones are private and never stored.
 */
function fresh<Schema extends z.ZodType>(
  c: Context<AppEnv>,
  body: z.output<Schema>,
  etag: string,
  key: string | undefined,
): Json<Schema> {
  const headers: Record<string, string> = {
    ETag: etag,
    "Cache-Control": key ? ANONYMOUS_CACHE_CONTROL : SIGNED_IN_CACHE_CONTROL,
    Vary: "Authorization",
  };
  if (!key) return c.json(body, 200, headers);
  store(c, key, JSON.stringify(body), { "Content-Type": "application/json", ...headers });
  return c.json(body, 200, { ...headers, "X-Cache": "MISS" });
}

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

const DEFAULT_ORDERING = { field: "created_at", direction: "desc" } as const;
const orderingText = (o: { field: string; direction: "asc" | "desc" }) =>
  `${o.direction === "desc" ? "-" : ""}${o.field}`;
/** The list parameters' defaults as the cache key spells them: a list asked with them is the list asked without. */
const LIST_DEFAULTS = {
  ordering: orderingText(DEFAULT_ORDERING),
  fields: PRODUCT_FIELDS.join(","),
  limit: 20,
  offset: 0,
};

/** The list's query read once for the list and its export: field selection, order and filters (400s here). */
export function readListQuery(query: z.infer<typeof ProductExportQuery>) {
  const selected = parseFieldSelection(PRODUCT_FIELDS, query.fields, query.omit);
  const ordering = parseOrdering(query.ordering, PRODUCT_ORDERING, DEFAULT_ORDERING);
  const min = priceBound("min_price", query.min_price);
  const max = priceBound("max_price", query.max_price);
  if (min !== undefined && max !== undefined && min > max) {
    throw new ApiError("bad_request", "min_price is above max_price.", {
      errors: [{ path: "min_price", message: "must not exceed max_price" }],
    });
  }
  return { selected, ordering, min, max, where: listConditions({ brand: query.brand, q: query.q, min, max }) };
}

export const listProducts: Handler<typeof routes.listProducts> = async (c) => {
  const query = c.req.valid("query");
  const { selected, ordering, min, max, where } = readListQuery(query);
  const key = c.var.caller
    ? undefined
    : await listKey(
        {
          brand: query.brand,
          // The search folds ASCII case on both sides (SQLite's lower()), so "Mug" and "mug" are one list.
          q: query.q?.replace(/[A-Z]/g, (letter) => letter.toLowerCase()),
          min_price: min,
          max_price: max,
          ordering: orderingText(ordering),
          fields: selected ? PRODUCT_FIELDS.filter((field) => selected.has(field)).join(",") : undefined,
          limit: query.limit,
          offset: query.offset,
        },
        LIST_DEFAULTS,
      );
  const stored = key && (await cached(key));
  if (stored) return hit<typeof ProductPageSchema>(stored);

  const pagination = { limit: query.limit, offset: query.offset };
  const { rows, total } = await listProductRows(c.var.db, where, ordering, pagination);
  const body = page(
    rows.map((row) => pickFields(toProduct(row), selected)),
    total,
    pagination,
  );
  return fresh<typeof ProductPageSchema>(c, body, await weakEtag(body), key);
};

export const getProduct: Handler<typeof routes.getProduct> = async (c) => {
  const { sku } = c.req.valid("param");
  const key = c.var.caller ? undefined : itemKey(sku);
  // HEAD (served by this handler too) transfers no product, so it is not a view; a read from the cache is one.
  const view = key !== undefined && c.req.method === "GET";
  const stored = key && (await cached(key));
  if (stored) {
    if (view) countView(c, sku);
    return hit<typeof ProductSchema>(stored);
  }
  const product = toProduct(await findProduct(c.var.db, sku));
  if (view) countView(c, sku);
  // views is left out of the validator: counting views must not invalidate every cached copy of the product.
  const { views: _views, ...stable } = product;
  return fresh<typeof ProductSchema>(c, product, await weakEtag(stable), key);
};

const LOST_UPDATE = "The product was changed by someone else meanwhile; read it again and retry.";

export const createProduct: Handler<typeof routes.createProduct> = async (c) => {
  const body = c.req.valid("json");
  const { db, caller } = c.var;
  // The caller check rides along with this read (requireCallerBatched), so the caller's row is at hand after it.
  const recipients = await recipientsQuery(db, caller);
  const actor = await caller.row();
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
  const record = changeRecord(db, c.env, actor, "create", row, diffProduct(null, row), now, recipients, false);
  await db.batch([db.insert(products).values(row), ...record.statements]);
  await purge(row.sku);
  sendAfterResponse(c, record.queueMessages);
  return c.json(toProduct(row), 201, { Location: `${API_PREFIX}/products/${row.sku}` });
};

/**
 * PUT and PATCH: only changed fields are written, recorded and mailed; no change, no write. Two round trips: the
 * product with the recipients (and the caller check), then the change, whose statements guard themselves.
 */
async function update(
  c: Context<AppEnv & SignedInEnv>,
  sku: string,
  body: { name?: string; brand?: string; price?: number },
) {
  const { db, caller } = c.var;
  const { existing, recipients } = await productAndRecipients(db, sku, caller);
  const next: Editable = {
    name: body.name ?? existing.name,
    brand: body.brand ?? existing.brand,
    priceCents: body.price === undefined ? existing.priceCents : priceToCents(body.price),
  };
  const changes = diffProduct(existing, next);
  if (Object.keys(changes).length === 0) return toProduct(existing);
  const now = Date.now();
  const actor = await caller.row();
  const record = changeRecord(db, c.env, actor, "update", { sku, ...next }, changes, now, recipients, true);
  const [written] = await db.batch([
    db
      .update(products)
      .set({ ...next, updatedAt: now })
      .where(unchangedSince(existing))
      .returning({ sku: products.sku }),
    ...record.statements,
  ]);
  if (written.length === 0) throw new ApiError("conflict", LOST_UPDATE);
  await purge(sku);
  sendAfterResponse(c, record.queueMessages);
  return toProduct({ ...existing, ...next, updatedAt: now });
}

export const replaceProduct: Handler<typeof routes.replaceProduct> = async (c) => {
  const { sku } = c.req.valid("param");
  return c.json(await update(c, sku, c.req.valid("json")), 200);
};

export const patchProduct: Handler<typeof routes.patchProduct> = async (c) => {
  const { sku } = c.req.valid("param");
  return c.json(await update(c, sku, c.req.valid("json")), 200);
};

export const deleteProduct: Handler<typeof routes.deleteProduct> = async (c) => {
  const { sku } = c.req.valid("param");
  const { db, caller } = c.var;
  const { existing, recipients } = await productAndRecipients(db, sku, caller);
  const now = Date.now();
  const changes = diffProduct(existing, null);
  const record = changeRecord(db, c.env, await caller.row(), "delete", existing, changes, now, recipients, true);
  const [deleted] = await db.batch([
    db.delete(products).where(unchangedSince(existing)).returning({ sku: products.sku }),
    ...record.statements,
  ]);
  if (deleted.length === 0) throw new ApiError("conflict", LOST_UPDATE);
  await purge(sku);
  sendAfterResponse(c, record.queueMessages);
  return c.body(null, 204);
};

export const productHistoryList: Handler<typeof routes.productHistory> = async (c) => {
  const { sku } = c.req.valid("param");
  const { limit, offset } = c.req.valid("query");
  const { db } = c.var;
  const [rows, [totals], exists] = await db.batch(historyQueries(db, sku, { limit, offset }));
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
