import { createRoute } from "@hono/zod-openapi";
import { optionalCaller, requireCaller, requireCallerBatched, requireRole } from "../../auth/require-auth";
import { csvResponse, EXPORT_RULES } from "../../lib/export";
import {
  BODY_ERRORS,
  bearerSecurity,
  errorResponses,
  jsonBody,
  jsonContent,
  optionalBearerSecurity,
} from "../../lib/openapi";
import { PaginationQuery } from "../../lib/pagination";
import { conditionalGet } from "./products.cache";
import {
  HistoryPageSchema,
  ProductCreateSchema,
  ProductExportQuery,
  ProductListQuery,
  ProductPageSchema,
  ProductPatchSchema,
  ProductReplaceSchema,
  ProductSchema,
  SkuParam,
} from "./products.schemas";

const tags = ["products"];
const cacheHeaders = {
  ETag: {
    description: "Weak validator of the representation; send it back in If-None-Match.",
    required: true,
    schema: { type: "string" },
  },
  "Cache-Control": {
    description: "`public, max-age=10` for anonymous callers, `private, no-store` when signed in.",
    required: true,
    schema: { type: "string" },
  },
  "X-Cache": {
    description:
      "Anonymous reads only: `HIT` when answered from this data center's cache (no database read), else `MISS`.",
    schema: { type: "string", enum: ["HIT", "MISS"] as string[] },
  },
} as const;

export const listProducts = createRoute({
  method: "get",
  path: "/products",
  operationId: "listProducts",
  tags,
  summary: "List products",
  description:
    "Anyone may read the catalog; a bearer token is optional, but a bad one is a 401. Filters combine: `brand` (exact), " +
    "`q` (substring of the name, case-insensitive), `min_price`/`max_price` (inclusive). List reads are not counted " +
    "as views. Answers carry an ETag over the whole page; If-None-Match with it answers 304.",
  security: optionalBearerSecurity,
  middleware: [optionalCaller, conditionalGet] as const,
  request: { query: ProductListQuery },
  responses: {
    200: { ...jsonContent(ProductPageSchema, "A page of products"), headers: cacheHeaders },
    304: { description: "Not modified: the page still matches If-None-Match", headers: cacheHeaders },
    ...errorResponses(400, 401),
  },
});

export const getProduct = createRoute({
  method: "get",
  path: "/products/{sku}",
  operationId: "getProduct",
  tags,
  summary: "Read one product",
  description:
    "Anyone may read a product. Each read by an anonymous caller (200 or 304) counts one view, sent to the `views` " +
    "queue after the response; reads with a token do not count. The weak ETag covers every field except `views`, so " +
    "a cached copy stays valid while views are counted; `views` in a 200 is exact up to messages still in the queue.",
  security: optionalBearerSecurity,
  middleware: [optionalCaller, conditionalGet] as const,
  request: { params: SkuParam },
  responses: {
    200: { ...jsonContent(ProductSchema, "The product"), headers: cacheHeaders },
    304: {
      description: "Not modified: the product still matches If-None-Match (the view is still counted)",
      headers: cacheHeaders,
    },
    ...errorResponses(400, 401, 404),
  },
});

export const createProduct = createRoute({
  method: "post",
  path: "/products",
  operationId: "createProduct",
  tags,
  summary: "Create a product (admin)",
  description:
    "Creates a product with a generated sku. The product, its history entry and a mail to every other admin and the " +
    "superuser are written in one batch. Unknown fields are a 422.",
  security: bearerSecurity,
  middleware: [requireCallerBatched, requireRole("admin")] as const,
  request: { body: jsonBody(ProductCreateSchema) },
  responses: {
    201: {
      ...jsonContent(ProductSchema, "The created product"),
      headers: { Location: { description: "The product's URL", schema: { type: "string" } } },
    },
    ...errorResponses(401, 403, ...BODY_ERRORS),
  },
});

export const replaceProduct = createRoute({
  method: "put",
  path: "/products/{sku}",
  operationId: "replaceProduct",
  tags,
  summary: "Replace a product's fields (admin)",
  description:
    "Sets name, brand and price (all required). Only fields whose value changes are recorded in the history and " +
    "mailed; a PUT that changes nothing writes nothing and answers the product unchanged. 409 when another admin " +
    "changed or deleted the product between this request's read and its write (nothing is written then).",
  security: bearerSecurity,
  middleware: [requireCallerBatched, requireRole("admin")] as const,
  request: { params: SkuParam, body: jsonBody(ProductReplaceSchema) },
  responses: {
    200: jsonContent(ProductSchema, "The product after the change"),
    ...errorResponses(401, 403, 404, 409, ...BODY_ERRORS),
  },
});

export const patchProduct = createRoute({
  method: "patch",
  path: "/products/{sku}",
  operationId: "patchProduct",
  tags,
  summary: "Change some of a product's fields (admin)",
  description: "Like PUT, but with any non-empty subset of name, brand and price.",
  security: bearerSecurity,
  middleware: [requireCallerBatched, requireRole("admin")] as const,
  request: { params: SkuParam, body: jsonBody(ProductPatchSchema) },
  responses: {
    200: jsonContent(ProductSchema, "The product after the change"),
    ...errorResponses(401, 403, 404, 409, ...BODY_ERRORS),
  },
});

export const deleteProduct = createRoute({
  method: "delete",
  path: "/products/{sku}",
  operationId: "deleteProduct",
  tags,
  summary: "Delete a product (admin)",
  description:
    "Deletes the product; its history (including this delete) stays readable and the other admins are mailed. " +
    "Its daily view counts are kept but no longer reported.",
  security: bearerSecurity,
  middleware: [requireCallerBatched, requireRole("admin")] as const,
  request: { params: SkuParam },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

export const productHistory = createRoute({
  method: "get",
  path: "/products/{sku}/history",
  operationId: "getProductHistory",
  tags,
  summary: "A product's change history (admin)",
  description:
    "Every create, update and delete, newest first: who, when, and each changed field from → to (prices as numbers). " +
    "Still readable after the product is deleted; 404 only when the sku never existed.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")] as const,
  request: { params: SkuParam, query: PaginationQuery },
  responses: {
    200: jsonContent(HistoryPageSchema, "A page of history entries"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const exportProducts = createRoute({
  method: "get",
  path: "/products/export",
  operationId: "exportProducts",
  tags,
  summary: "Export the filtered product list as CSV",
  description:
    "Anyone may export the catalog, as anyone may list it; a bearer token is optional, but a bad one is a 401. The " +
    "same filters, `ordering` and `fields`/`omit` as the list; prices are written with two decimals. Never cached. " +
    EXPORT_RULES,
  security: optionalBearerSecurity,
  middleware: [optionalCaller] as const,
  request: { query: ProductExportQuery },
  responses: {
    200: csvResponse("The products as CSV, one record per product"),
    ...errorResponses(400, 401, 429),
  },
});
