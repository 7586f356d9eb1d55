import { z } from "@hono/zod-openapi";
import { isValidPrice, MAX_PRICE } from "../../lib/money";
import { queryPatterns } from "../../lib/openapi";
import { PaginationQuery, pageSchema } from "../../lib/pagination";

export const PRODUCT_FIELDS = ["sku", "name", "brand", "price", "views", "created_at", "updated_at"] as const;
export const PRODUCT_ORDERING = ["name", "price", "created_at", "updated_at", "views"] as const;

export const Price = z
  .number()
  .min(0)
  .max(MAX_PRICE)
  .refine(isValidPrice, { message: "must have at most two decimal places" })
  .openapi({
    multipleOf: 0.01,
    example: 9.99,
    description: `0 to ${MAX_PRICE.toLocaleString("en")}, at most two decimal places.`,
  });

export const ProductSchema = z
  .object({
    sku: z.uuid(),
    name: z.string(),
    brand: z.string(),
    price: z
      .number()
      .openapi({ multipleOf: 0.01, example: 9.99, description: "Stored as integer cents; two decimal places." }),
    views: z.number().int().openapi({ description: "Anonymous single-product reads, counted through a queue." }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Product");

export const ProductPartialSchema = ProductSchema.partial().openapi("ProductFields", {
  description: "A product with only the fields chosen by `fields`/`omit` (all of them by default).",
});

const Name = z.string().trim().min(1).max(200).openapi({ example: "Desk Lamp" });
const Brand = z.string().trim().min(1).max(100).openapi({ example: "Lumo" });

export const ProductCreateSchema = z.strictObject({ name: Name, brand: Brand, price: Price }).openapi("ProductCreate");

export const ProductReplaceSchema = z
  .strictObject({ name: Name, brand: Brand, price: Price })
  .openapi("ProductReplace", { description: "Every writable field; the sku, views and timestamps are kept." });

export const ProductPatchSchema = z
  .strictObject({ name: Name.optional(), brand: Brand.optional(), price: Price.optional() })
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one of name, brand, price" })
  .openapi("ProductPatch");

const PriceParam = (name: string) =>
  z
    .string()
    .regex(/^\d{1,7}(\.\d{1,2})?$/, "a price such as 9.99")
    .optional()
    .openapi({ param: { name, in: "query" }, example: "9.99" });

export const ProductListQuery = PaginationQuery.extend({
  brand: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: "brand", in: "query" }, description: "Exact brand." }),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, description: "Case-insensitive substring of the name." }),
  min_price: PriceParam("min_price"),
  max_price: PriceParam("max_price"),
  ordering: z
    .string()
    .optional()
    .openapi({
      param: { name: "ordering", in: "query" },
      pattern: queryPatterns.ordering(PRODUCT_ORDERING),
      description: `One of ${PRODUCT_ORDERING.join(", ")}; prefix - for descending. Default -created_at.`,
      example: "-views",
    }),
  fields: z
    .string()
    .optional()
    .openapi({
      param: { name: "fields", in: "query" },
      pattern: queryPatterns.fieldList(PRODUCT_FIELDS),
      description: `Comma-separated subset of ${PRODUCT_FIELDS.join(", ")}.`,
    }),
  omit: z
    .string()
    .optional()
    .openapi({
      param: { name: "omit", in: "query" },
      pattern: queryPatterns.fieldList(PRODUCT_FIELDS),
      description: "Comma-separated fields to leave out.",
    }),
});

export const ProductPageSchema = pageSchema(ProductPartialSchema, "ProductPage");

export const SkuParam = z.object({
  sku: z.uuid().openapi({ param: { name: "sku", in: "path" }, example: "00000000-0000-4000-8000-0000000c0001" }),
});

export const HistoryEntrySchema = z
  .object({
    id: z.uuid(),
    sku: z.uuid(),
    action: z.enum(["create", "update", "delete"]),
    actor: z.object({ id: z.string(), username: z.string().nullable() }),
    changes: z
      .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
      .openapi({ example: { price: { from: 19.99, to: 17.5 } } }),
    created_at: z.iso.datetime(),
  })
  .openapi("ProductHistoryEntry");

export const HistoryPageSchema = pageSchema(HistoryEntrySchema, "ProductHistoryPage");

export type Product = z.infer<typeof ProductSchema>;

/** The list's query without paging: an export holds every matching row (up to its bound). */
export const ProductExportQuery = ProductListQuery.omit({ limit: true, offset: true });
