import { z } from "@hono/zod-openapi";

export const MAX_LIMIT = 100;

const DECIMAL = /^-?\d{1,15}$/;

/**
 * An integer query parameter. `z.coerce.number()` would read "0x10" as 16, "1e3" as 1000 and "" or " " as 0; only
 * plain decimal digits are numbers here, anything else fails the schema and is a 400.
 */
export function queryInt<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess((value) => (typeof value === "string" && DECIMAL.test(value) ? Number(value) : value), schema);
}

/** `limit` (default 20, max 100) and `offset`; bad values are a 400 through the default hook. */
export const PaginationQuery = z.object({
  limit: queryInt(z.number().int().min(1).max(MAX_LIMIT))
    .default(20)
    .openapi({ param: { name: "limit", in: "query" }, example: 20 }),
  offset: queryInt(z.number().int().min(0).max(1_000_000_000))
    .default(0)
    .openapi({ param: { name: "offset", in: "query" }, example: 0 }),
});

export type Pagination = { limit: number; offset: number };

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      total: z.number().int(),
      limit: z.number().int(),
      offset: z.number().int(),
    })
    .openapi(name);
}

export function page<T>(items: T[], total: number, { limit, offset }: Pagination) {
  return { items, total, limit, offset };
}
