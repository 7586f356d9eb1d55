import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Report = {
  from: string;
  to: string;
  items: { sku: string; name: string; brand: string; total_views: number; series: { day: string; views: number }[] }[];
};

let admin: TestUser;
let superuser: TestUser;
let member: TestUser;
const sku = {
  lamp: "00000000-0000-4000-8000-00000000a001",
  chair: "00000000-0000-4000-8000-00000000a002",
  desk: "00000000-0000-4000-8000-00000000a003",
  gone: "00000000-0000-4000-8000-00000000a004",
};

beforeAll(async () => {
  admin = await createUser("admin");
  superuser = await createUser("superuser");
  member = await createUser("member");
  const statements = [
    ["lamp", "Lamp"],
    ["chair", "Chair"],
    ["desk", "Desk"],
  ].map(([key, name]) =>
    env.DB.prepare(
      "INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at) VALUES (?, ?, 'Home', 100, 0, 0, 0)",
    ).bind(sku[key as keyof typeof sku], name),
  );
  const views: [keyof typeof sku, string, number][] = [
    ["lamp", "2026-02-01", 3],
    ["lamp", "2026-02-03", 4],
    ["chair", "2026-02-02", 10],
    ["desk", "2026-02-02", 1],
    ["desk", "2026-01-31", 50], // outside the range asked below
    ["gone", "2026-02-02", 99], // its product was deleted: not reported
  ];
  for (const [key, day, n] of views) {
    statements.push(
      env.DB.prepare("INSERT INTO product_views_daily (sku, day, views) VALUES (?, ?, ?)").bind(sku[key], day, n),
    );
  }
  await env.DB.batch(statements);
});

async function report(query: string, token = admin.token): Promise<Report> {
  const res = await api(`/reports/product-views?${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describe("GET /reports/product-views", () => {
  it("ranks the most viewed products in the range with zero-filled daily series", async () => {
    const body = await report("from=2026-02-01&to=2026-02-03");
    expect(body.from).toBe("2026-02-01");
    expect(body.to).toBe("2026-02-03");
    expect(body.items).toEqual([
      {
        sku: sku.chair,
        name: "Chair",
        brand: "Home",
        total_views: 10,
        series: [
          { day: "2026-02-01", views: 0 },
          { day: "2026-02-02", views: 10 },
          { day: "2026-02-03", views: 0 },
        ],
      },
      {
        sku: sku.lamp,
        name: "Lamp",
        brand: "Home",
        total_views: 7,
        series: [
          { day: "2026-02-01", views: 3 },
          { day: "2026-02-02", views: 0 },
          { day: "2026-02-03", views: 4 },
        ],
      },
      {
        sku: sku.desk,
        name: "Desk",
        brand: "Home",
        total_views: 1,
        series: [
          { day: "2026-02-01", views: 0 },
          { day: "2026-02-02", views: 1 },
          { day: "2026-02-03", views: 0 },
        ],
      },
    ]);
  });

  it("honours limit and the range bounds (inclusive)", async () => {
    expect((await report("from=2026-02-01&to=2026-02-03&limit=1")).items.map((i) => i.sku)).toEqual([sku.chair]);
    const oneDay = await report("from=2026-01-31&to=2026-01-31");
    expect(oneDay.items).toMatchObject([
      { sku: sku.desk, total_views: 50, series: [{ day: "2026-01-31", views: 50 }] },
    ]);
    expect((await report("from=2025-01-01&to=2025-01-31")).items).toEqual([]);
  });

  it("defaults to the last seven days up to today (UTC)", async () => {
    const before = new Date().toISOString().slice(0, 10);
    const body = await report("");
    const after = new Date().toISOString().slice(0, 10);
    expect([before, after]).toContain(body.to);
    expect(body.items.every((item) => item.series.length === 7)).toBe(true);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(6 * 86_400_000);
  });

  it("rejects bad parameters with 400", async () => {
    for (const query of [
      "from=2026-02-03&to=2026-02-01",
      "from=2026-02-30&to=2026-03-01",
      "from=02/01/2026",
      "from=2024-01-01&to=2025-12-31",
      "limit=0",
      "limit=51",
      "limit=ten",
    ]) {
      await expectProblem(await api(`/reports/product-views?${query}`, { token: admin.token }), 400);
    }
  });

  it("is for admins only", async () => {
    await expectProblem(await api("/reports/product-views"), 401);
    await expectProblem(await api("/reports/product-views", { token: "bad" }), 401);
    await expectProblem(await api("/reports/product-views", { token: member.token }), 403);
    expect((await report("from=2026-02-01&to=2026-02-03", superuser.token)).items).toHaveLength(3);
  });

  it("includes anonymous views once the views queue has applied them", async () => {
    const res = await api("/products", {
      method: "POST",
      token: admin.token,
      json: { name: "Fresh", brand: "New", price: 5 },
    });
    const { sku: fresh } = (await res.json()) as { sku: string };
    for (let i = 0; i < 3; i += 1) expect((await api(`/products/${fresh}`)).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // Bounded poll: the real consumer runs in the background.
    const deadline = Date.now() + 20_000;
    let total = 0;
    while (Date.now() < deadline) {
      const body = await report(`from=${yesterday}&to=${today}&limit=50`);
      total = body.items.find((item) => item.sku === fresh)?.total_views ?? 0;
      if (total >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(total).toBe(3);
  });
});

describe("GET /reports/product-views/{sku}", () => {
  type Series = Report["items"][number] & { from: string; to: string };
  async function series(id: string, query: string, token = admin.token): Promise<Series> {
    const res = await api(`/reports/product-views/${id}?${query}`, { token });
    expect(res.status).toBe(200);
    return (await res.json()) as Series;
  }

  it("gives one product's views per day, zero-filled, with their total", async () => {
    expect(await series(sku.desk, "from=2026-01-30&to=2026-02-02")).toEqual({
      sku: sku.desk,
      name: "Desk",
      brand: "Home",
      from: "2026-01-30",
      to: "2026-02-02",
      total_views: 51,
      series: [
        { day: "2026-01-30", views: 0 },
        { day: "2026-01-31", views: 50 },
        { day: "2026-02-01", views: 0 },
        { day: "2026-02-02", views: 1 },
      ],
    });
  });

  it("agrees with the report's series for the same range", async () => {
    const range = "from=2026-02-01&to=2026-02-03";
    const ranked = await report(range);
    for (const item of ranked.items) {
      const { from: _f, to: _t, ...one } = await series(item.sku, range);
      expect(one).toEqual(item);
    }
  });

  it("defaults to the last seven days, takes up to 366, and refuses more or a reversed range", async () => {
    const body = await series(sku.lamp, "");
    expect(body.series).toHaveLength(7);
    expect((await series(sku.lamp, "from=2025-02-04&to=2026-02-04")).series).toHaveLength(366);
    for (const query of ["from=2025-02-03&to=2026-02-04", "from=2026-02-03&to=2026-02-01", "to=2026-02-31"]) {
      await expectProblem(await api(`/reports/product-views/${sku.lamp}?${query}`, { token: admin.token }), 400);
    }
  });

  it("is a 404 for a sku with no product (a deleted one's views are not reported either)", async () => {
    await expectProblem(await api(`/reports/product-views/${sku.gone}`, { token: admin.token }), 404);
    await expectProblem(await api(`/reports/product-views/${crypto.randomUUID()}`, { token: admin.token }), 404);
    await expectProblem(await api("/reports/product-views/not-a-sku", { token: admin.token }), 400);
  });

  it("is for admins only", async () => {
    await expectProblem(await api(`/reports/product-views/${sku.lamp}`), 401);
    await expectProblem(await api(`/reports/product-views/${sku.lamp}`, { token: member.token }), 403);
    expect((await series(sku.lamp, "from=2026-02-01&to=2026-02-03", superuser.token)).total_views).toBe(7);
  });
});
