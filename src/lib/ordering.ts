import { asc, desc, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { ApiError } from "./errors";

export type Ordering<K extends string> = { field: K; direction: "asc" | "desc" };

/** `ordering=-created_at` style: one declared field, `-` for descending. Anything else is a 400. */
export function parseOrdering<K extends string>(
  value: string | undefined,
  allowed: readonly K[],
  fallback: Ordering<K>,
): Ordering<K> {
  if (!value) return fallback;
  const direction = value.startsWith("-") ? "desc" : "asc";
  const field = value.replace(/^[-+]/, "") as K;
  if (!allowed.includes(field)) {
    throw new ApiError(
      "bad_request",
      `Cannot order by '${field}'. Allowed: ${allowed.join(", ")} (prefix - for descending).`,
      {
        errors: [{ path: "ordering", message: `unknown ordering field '${field}'` }],
      },
    );
  }
  return { field, direction };
}

/**
 * One term of a list's sort: what to order by, its direction, and how to read its value back from a row (for
 * keyset paging). A list's terms end with its unique id, so the order is total.
 */
export type SortKey<Row> = { expr: SQLWrapper; desc: boolean; value: (row: Row) => unknown };

export function orderByKeys<Row>(keys: readonly SortKey<Row>[]): SQL[] {
  return keys.map((key) => (key.desc ? desc(key.expr) : asc(key.expr)));
}

/**
 * The rows strictly after `row` in the order of `keys` (keyset paging: each page starts where the last one ended,
 * reading no row twice, unlike an OFFSET that reads and skips every earlier row again). Lexicographic: some key is
 * past the row's value and every key before it equal; equality is SQLite's `IS`, so a NULL key compares equal to a
 * NULL value.
 */
export function afterKeys<Row>(keys: readonly SortKey<Row>[], row: Row): SQL {
  const terms = keys.map((key, i) => {
    // Parenthesised: a key may be an expression (`x IS NULL`), and `<` binds tighter than `IS`.
    const equal = keys.slice(0, i).map((earlier) => sql`(${earlier.expr}) IS ${earlier.value(row)}`);
    const past = key.desc ? sql`(${key.expr}) < ${key.value(row)}` : sql`(${key.expr}) > ${key.value(row)}`;
    return sql`(${sql.join([...equal, past], sql` AND `)})`;
  });
  return sql`(${sql.join(terms, sql` OR `)})`;
}
