import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";

/**
 * `INSERT INTO table SELECT <values> [FROM …] [WHERE …]` as a drizzle query that can go into db.batch() (drizzle's
 * `db.run(sql)` cannot: its D1 batch needs a prepared statement). `values` is keyed like the table's fields; a value
 * may be an SQL expression (computed when the statement runs, e.g. a budget's CASE); a field left out gets its
 * column default or NULL, so a column added later does not break the statement.
 */
export function insertSelect<T extends SQLiteTable>(
  db: Db,
  table: T,
  values: Partial<Record<keyof T["$inferInsert"], unknown>>,
  clauses: { from?: SQL; where?: SQL } = {},
) {
  const list = Object.entries(getTableColumns(table)).map(([key, column]) => {
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined) {
      const fallback = column.default;
      if (fallback === undefined || fallback === null) return sql`NULL`;
      return is(fallback, SQL) ? fallback : sql`${column.mapToDriverValue(fallback)}`;
    }
    if (is(value, SQL)) return value;
    return value === null ? sql`NULL` : sql`${column.mapToDriverValue(value)}`;
  });
  return db
    .insert(table)
    .select(
      sql`SELECT ${sql.join(list, sql`, `)}${clauses.from ? sql` FROM ${clauses.from}` : sql``}${clauses.where ? sql` WHERE ${clauses.where}` : sql``}`,
    );
}
