import { and, asc, count, desc, eq, gte, inArray, isNull, lte, ne, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { counters, productHistory, products, users } from "../../db/schema";
import type { AuthUser } from "../../env";
import { ApiError } from "../../lib/errors";
import { centsToPrice } from "../../lib/money";
import type { Ordering } from "../../lib/ordering";
import type { Pagination } from "../../lib/pagination";
import { toIso } from "../../lib/time";
import type { PRODUCT_ORDERING, Product } from "./products.schemas";

export type ProductRow = typeof products.$inferSelect;

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

export function productQuery(db: Db, sku: string) {
  return db.select().from(products).where(eq(products.sku, sku));
}

export async function findProduct(db: Db, sku: string): Promise<ProductRow> {
  const [row] = await productQuery(db, sku);
  if (!row) throw new ApiError("not_found", `No product with sku ${sku}.`);
  return row;
}

/** Who is told about a change: every admin and the superuser who is not deleted and is not the actor. */
export function recipientsQuery(db: Db, actor: Pick<AuthUser, "id">) {
  return db
    .select({ email: users.email, name: users.username })
    .from(users)
    .where(and(inArray(users.role, ["admin", "superuser"]), isNull(users.deletedAt), ne(users.id, actor.id)));
}

/** The product and the notice recipients in one round trip (both are needed before any change is planned). */
export async function productAndRecipients(db: Db, sku: string, actor: Pick<AuthUser, "id">) {
  const [[row], recipients] = await db.batch([productQuery(db, sku), recipientsQuery(db, actor)]);
  if (!row) throw new ApiError("not_found", `No product with sku ${sku}.`);
  return { existing: row, recipients };
}

/** The row exactly as it was read (views aside, which the consumer changes all the time). */
export function unchangedSince(row: ProductRow) {
  return and(
    eq(products.sku, row.sku),
    eq(products.updatedAt, row.updatedAt),
    eq(products.name, row.name),
    eq(products.brand, row.brand),
    eq(products.priceCents, row.priceCents),
  );
}

export type ListFilters = { brand?: string; q?: string; min?: number; max?: number };

/**
 * `q` is a literal, case-insensitive substring at any length: instr() has no pattern syntax and no length limit (D1
 * refuses LIKE patterns over 50 bytes).
 */
export function listConditions(filters: ListFilters): SQL | undefined {
  const conditions: SQL[] = [];
  if (filters.brand) conditions.push(eq(products.brand, filters.brand));
  if (filters.q) conditions.push(sql`instr(lower(${products.name}), lower(${filters.q})) > 0`);
  if (filters.min !== undefined) conditions.push(gte(products.priceCents, filters.min));
  if (filters.max !== undefined) conditions.push(lte(products.priceCents, filters.max));
  return conditions.length > 0 ? and(...conditions) : undefined;
}

const ORDER_COLUMNS = {
  name: products.name,
  price: products.priceCents,
  created_at: products.createdAt,
  updated_at: products.updatedAt,
  views: products.views,
} as const;

/** A list's order: the field, ties broken by sku in the same direction (so pages never overlap or skip). */
export function orderBy(ordering: Ordering<(typeof PRODUCT_ORDERING)[number]>): SQL[] {
  const by = ordering.direction === "asc" ? asc : desc;
  return [by(ORDER_COLUMNS[ordering.field]), by(products.sku)];
}

/**
 * The total of a list: an unfiltered one is the `products` counter (one row, kept exact by triggers); a filtered one
 * counts the matching rows only, through the index its filter uses.
 */
export function countQuery(db: Db, where: SQL | undefined) {
  if (where === undefined) return db.select({ n: counters.value }).from(counters).where(eq(counters.name, "products"));
  return db.select({ n: count() }).from(products).where(where);
}

/** The page and the total in one batch (one snapshot). */
export async function listProducts(
  db: Db,
  where: SQL | undefined,
  ordering: Ordering<(typeof PRODUCT_ORDERING)[number]>,
  { limit, offset }: Pagination,
): Promise<{ rows: ProductRow[]; total: number }> {
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(products)
      .where(where)
      .orderBy(...orderBy(ordering))
      .limit(limit)
      .offset(offset),
    countQuery(db, where),
  ]);
  return { rows, total: counted?.n ?? 0 };
}

export function historyQueries(db: Db, sku: string, { limit, offset }: Pagination) {
  return [
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
  ] as const;
}
