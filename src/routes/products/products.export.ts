import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { products } from "../../db/schema";
import type { Handler } from "../../env";
import { type CsvColumns, selectColumns } from "../../lib/csv";
import { admitExport, csvAnswer, EXPORT_MAX_ROWS, pagesOf } from "../../lib/export";
import type { Ordering } from "../../lib/ordering";
import { readListQuery } from "./products.handlers";
import { countQuery, orderBy, toProduct } from "./products.queries";
import type * as routes from "./products.routes";
import { PRODUCT_FIELDS, type PRODUCT_ORDERING, type Product } from "./products.schemas";

/** Product rows are small (a name is at most 200 characters); the skus travel as one JSON parameter. */
const PAGE_ROWS = 500;

const COLUMNS: CsvColumns<Product> = {
  sku: [{ header: "sku", cell: (p) => p.sku }],
  name: [{ header: "name", cell: (p) => p.name }],
  brand: [{ header: "brand", cell: (p) => p.brand }],
  price: [{ header: "price", cell: (p) => p.price.toFixed(2) }],
  views: [{ header: "views", cell: (p) => p.views }],
  created_at: [{ header: "created_at", cell: (p) => p.created_at }],
  updated_at: [{ header: "updated_at", cell: (p) => p.updated_at }],
};

/** The skus the list's query matches, in its order (one more than an export holds, at most), and their rows by page. */
export async function exportedProducts(
  db: Db,
  where: SQL | undefined,
  ordering: Ordering<(typeof PRODUCT_ORDERING)[number]>,
) {
  const skus = (
    await db
      .select({ sku: products.sku })
      .from(products)
      .where(where)
      .orderBy(...orderBy(ordering))
      .limit(EXPORT_MAX_ROWS + 1)
  ).map((row) => row.sku);
  const load = (chunk: string[]) =>
    db
      .select()
      .from(products)
      .where(sql`${products.sku} IN (SELECT value FROM json_each(${JSON.stringify(chunk)}))`);
  return {
    ids: skus,
    count: async () => (await countQuery(db, where))[0]?.n ?? 0,
    pages: () => pagesOf(skus, PAGE_ROWS, load, (row) => row.sku),
  };
}

export const exportProducts: Handler<typeof routes.exportProducts> = async (c) => {
  const { selected, ordering, where } = readListQuery(c.req.valid("query"));
  const columns = selectColumns(COLUMNS, PRODUCT_FIELDS, selected);
  const { db, caller } = c.var;
  const matched = await exportedProducts(db, where, ordering);
  await admitExport(c, db, caller, "products", matched.ids.length, matched.count);
  return csvAnswer(c, {
    name: "products",
    total: matched.ids.length,
    header: columns.map((column) => column.header),
    pages: matched.pages(),
    record: (row) => {
      const product = toProduct(row);
      return columns.map((column) => column.cell(product));
    },
  });
};
