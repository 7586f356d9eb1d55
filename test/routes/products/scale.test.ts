import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { d1Cost } from "../../d1-cost";
import { api, createUser, type TestUser } from "../../helpers";

const ROWS = 10_000;
const LIMIT = 20;
let member: TestUser;

/** Rows straight into D1 (one statement each), as an import or a seed would write them: the counters follow. */
async function seed(creator: string) {
  const now = Date.now() - ROWS;
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       SELECT 'scale-' || i, 'Product ' || i, 'Brand ' || (i % 50), i * 7 % 100000, 0, ?2 + i, ?2 + i FROM n`,
    ).bind(ROWS, now),
    env.DB.prepare(
      `INSERT INTO tasks (id, title, description, status, created_by, created_at, updated_at)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       SELECT 'scale-' || i, 'Task ' || i, '', CASE i % 3 WHEN 0 THEN 'done' ELSE 'todo' END, ?3, ?2 + i, ?2 + i FROM n`,
    ).bind(ROWS, now, creator),
  ]);
}

beforeAll(async () => {
  member = await createUser("member");
  await seed(member.id);
});

describe(`lists read the page, not the table (${ROWS} rows)`, () => {
  it("the counters are exact: inserts and deletes through any path keep them", async () => {
    const count = async (table: string) =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n;
    const counter = async (name: string) =>
      (await env.DB.prepare("SELECT value FROM counters WHERE name = ?").bind(name).first<{ value: number }>())?.value;
    expect(await counter("products")).toBe(await count("products"));
    expect(await counter("tasks")).toBe(await count("tasks"));
    await env.DB.prepare("DELETE FROM tasks WHERE id IN ('scale-1', 'scale-2')").run();
    expect(await counter("tasks")).toBe(await count("tasks"));
    await env.DB.prepare(
      "INSERT INTO tasks (id, title, created_by, created_at, updated_at) VALUES ('scale-1', 't', ?, 1, 1)",
    )
      .bind(member.id)
      .run();
    expect(await counter("tasks")).toBe(await count("tasks"));
  });

  it("unfiltered GET /products?limit=20: one round trip, at most limit + 10 rows read, exact total", async () => {
    const res = await api(`/products?limit=${LIMIT}`, { token: member.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: unknown[]; total: number };
    expect(body.items).toHaveLength(LIMIT);
    const total = (await env.DB.prepare("SELECT count(*) AS n FROM products").first<{ n: number }>())?.n;
    expect(body.total).toBe(total);
    const cost = d1Cost(res);
    expect(cost.roundTrips).toBe(1);
    expect(cost.rowsRead).toBeLessThanOrEqual(LIMIT + 10);
  });

  // Each task row brings its creator's username, a primary-key lookup D1 counts as one more row read: the page costs
  // 2 × limit, whatever the table's size.
  it("unfiltered GET /tasks?limit=20: one round trip, at most 2 × limit + 10 rows read, exact total", async () => {
    const res = await api(`/tasks?limit=${LIMIT}`, { token: member.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: unknown[]; total: number };
    expect(body.items).toHaveLength(LIMIT);
    const total = (await env.DB.prepare("SELECT count(*) AS n FROM tasks").first<{ n: number }>())?.n;
    expect(body.total).toBe(total);
    const cost = d1Cost(res);
    expect(cost.roundTrips).toBe(1);
    expect(cost.rowsRead).toBeLessThanOrEqual(2 * LIMIT + 10);
  });

  it("a filtered list reads no more than the matching rows plus the page", async () => {
    const brand = await api(`/products?limit=${LIMIT}&brand=Brand%207`, { token: member.token });
    const brandBody = (await brand.json()) as { total: number };
    expect(brandBody.total).toBe(ROWS / 50);
    expect(d1Cost(brand).rowsRead).toBeLessThanOrEqual(brandBody.total + LIMIT + 10);

    const done = await api(`/tasks?limit=${LIMIT}&status=done`, { token: member.token });
    const doneBody = (await done.json()) as { total: number };
    expect(doneBody.total).toBeGreaterThan(3000);
    // The matching rows once (the count, from the index alone), then the page with its creators; the status index
    // (status, created_at) leaves the id tie-break to a sort that reads one page more.
    expect(d1Cost(done).rowsRead).toBeLessThanOrEqual(doneBody.total + 3 * LIMIT + 10);
  });
});
