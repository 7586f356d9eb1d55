import type { RouteHandler } from "@hono/zod-openapi";
import { and } from "drizzle-orm";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { type CsvColumns, selectColumns } from "../../lib/csv";
import { admitExport, csvAnswer, EXPORT_MAX_ROWS, keysetPages } from "../../lib/export";
import { readListQuery } from "./products.handlers";
import { countQuery, type ProductRow, pageQuery, sortKeys, toProduct } from "./products.queries";
import type * as routes from "./products.routes";
import { PRODUCT_FIELDS, type Product } from "./products.schemas";

/** Product rows are small (a name is at most 200 characters). */
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

export const exportProducts: RouteHandler<typeof routes.exportProducts, AppEnv> = async (c) => {
  const { selected, ordering, where } = readListQuery(c.req.valid("query"));
  const columns = selectColumns(COLUMNS, PRODUCT_FIELDS, selected);
  const db = getDb(c.env.DB);
  const total = (await countQuery(db, where))[0]?.n ?? 0;
  await admitExport(c, db, "products", total);
  const page = (after: ReturnType<typeof and>, limit: number): Promise<ProductRow[]> =>
    pageQuery(db, and(where, after), ordering, { limit, offset: 0 });
  return csvAnswer(c, {
    name: "products",
    total,
    header: columns.map((column) => column.header),
    pages: keysetPages(sortKeys(ordering), page, PAGE_ROWS, EXPORT_MAX_ROWS),
    record: (row) => {
      const product = toProduct(row);
      return columns.map((column) => column.cell(product));
    },
  });
};
