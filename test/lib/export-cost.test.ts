import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb, RequestD1 } from "../../src/db/client";
import type { AuthUser } from "../../src/env";
import type { Ordering } from "../../src/lib/ordering";
import { exportedProducts } from "../../src/routes/products/products.export";
import { listConditions } from "../../src/routes/products/products.queries";
import { exportedTasks } from "../../src/routes/tasks/tasks.export";
import { createUser, type TestUser } from "../helpers";

const ROWS = 3_000;
const tag = crypto.randomUUID().slice(0, 8);
let member: TestUser;

type Exported = { ids: string[]; pages: () => AsyncIterable<unknown[]> };

/** A whole export read through the metered D1 a request uses: rows out, D1 rows read, round trips. */
async function cost(read: (db: ReturnType<typeof getDb>) => Promise<Exported>) {
  const d1 = new RequestD1(env.DB, "first-primary");
  const exported = await read(getDb(d1 as unknown as D1Database));
  let rows = 0;
  for await (const page of exported.pages()) rows += page.length;
  return { ids: exported.ids.length, rows, rowsRead: d1.cost.rowsRead, roundTrips: d1.cost.roundTrips };
}

beforeAll(async () => {
  member = await createUser("member");
  const base = Date.now() - ROWS;
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO tasks (id, title, description, status, expires_at, created_by, created_at, updated_at)
       WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       SELECT lower(hex(randomblob(16))), ?2 || ' ' || (i % 97), '', CASE i % 2 WHEN 0 THEN 'done' ELSE 'todo' END,
              CASE WHEN i % 5 = 0 THEN NULL ELSE ?4 + (i % 300) * 1000 END, ?3, ?4 + i, ?4 + i FROM k`,
    ).bind(ROWS, `Cost ${tag}`, member.id, base),
    env.DB.prepare(
      `INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
       WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       SELECT lower(hex(randomblob(16))), 'Item ' || i, ?2, (i % 50) * 100, 0, ?3 + i, ?3 + i FROM k`,
    ).bind(ROWS, `Cost ${tag}`, base),
  ]);
});

const orderingOf = <K extends string>(value: string) =>
  ({ field: value.replace("-", ""), direction: value.startsWith("-") ? "desc" : "asc" }) as Ordering<K>;

/**
 * An export reads each row a small, fixed number of times whatever its size: the ids once (through the list's
 * index, or a sort), then each row by primary key; D1 counts 4 to 5 rows read per row exported. OFFSET pages would
 * read every earlier page again, and keyset pages over the sort key written out as ORs (the nulls-last expiry
 * order cannot be a row-value range) read 17 to 62 per row at this size, growing with it. docs/tasks.md states it.
 */
describe(`export cost in D1 rows read (${ROWS} rows)`, () => {
  it.each(["-created_at", "expires_at", "-expires_at", "title"])("tasks ordered by %s", async (ordering) => {
    const measured = await cost((db) =>
      exportedTasks(db, { q: `Cost ${tag}`, ordering }, { id: member.id, role: "member" } as AuthUser),
    );
    console.log(`tasks by ${ordering}: ${JSON.stringify(measured)}`);
    expect(measured).toMatchObject({ ids: ROWS, rows: ROWS, roundTrips: 1 + ROWS / 100 });
    expect(measured.rowsRead / ROWS).toBeLessThanOrEqual(5);
  });

  it.each(["-created_at", "price", "-views", "name"])("products ordered by %s", async (ordering) => {
    const measured = await cost((db) =>
      exportedProducts(db, listConditions({ brand: `Cost ${tag}` }), orderingOf(ordering)),
    );
    console.log(`products by ${ordering}: ${JSON.stringify(measured)}`);
    expect(measured).toMatchObject({ ids: ROWS, rows: ROWS, roundTrips: 1 + ROWS / 500 });
    expect(measured.rowsRead / ROWS).toBeLessThanOrEqual(5);
  });
});
