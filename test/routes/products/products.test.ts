import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, call, createUser, expectProblem, type TestUser, tableCounts } from "../../helpers";

type Product = {
  sku: string;
  name: string;
  brand: string;
  price: number;
  views: number;
  created_at: string;
  updated_at: string;
};
type Page<T> = { items: T[]; total: number; limit: number; offset: number };

let admin: TestUser;
let superuser: TestUser;
let member: TestUser;

/** The tables a product write touches (see tableCounts for why not all of them). */
const catalogCounts = () => tableCounts(["products", "product_history", "outbox"]);

beforeAll(async () => {
  admin = await createUser("admin");
  superuser = await createUser("superuser");
  member = await createUser("member");
});

async function create(json: Record<string, unknown>, token = admin.token): Promise<Product> {
  const res = await api("/products", { method: "POST", token, json });
  expect(res.status).toBe(201);
  return (await res.json()) as Product;
}

const MISSING = "00000000-0000-4000-8000-00000000dead";

describe("create, read, update, delete", () => {
  it("creates with a generated sku, stores cents and answers the price as a number", async () => {
    const res = await api("/products", {
      method: "POST",
      token: admin.token,
      json: { name: "  Desk Lamp  ", brand: "Lumo", price: 0.29 },
    });
    expect(res.status).toBe(201);
    const product = (await res.json()) as Product;
    expect(product).toMatchObject({ name: "Desk Lamp", brand: "Lumo", price: 0.29, views: 0 });
    expect(product.sku).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("location")).toBe(`/api/v1/products/${product.sku}`);
    expect(product.created_at).toBe(product.updated_at);
    const row = await env.DB.prepare("SELECT price_cents FROM products WHERE sku = ?").bind(product.sku).first();
    expect(row).toEqual({ price_cents: 29 });

    const read = await api(`/products/${product.sku}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(product);
  });

  it("accepts the bounds 0 and 1,000,000", async () => {
    expect((await create({ name: "Free", brand: "B", price: 0 })).price).toBe(0);
    expect((await create({ name: "Dear", brand: "B", price: 1_000_000 })).price).toBe(1_000_000);
  });

  it("PUT replaces every field, PATCH only the given ones", async () => {
    const product = await create({ name: "Kettle", brand: "Boil", price: 20 });
    const put = await api(`/products/${product.sku}`, {
      method: "PUT",
      token: admin.token,
      json: { name: "Kettle 2", brand: "Boil Co", price: 24.5 },
    });
    expect(put.status).toBe(200);
    const replaced = (await put.json()) as Product;
    expect(replaced).toMatchObject({ sku: product.sku, name: "Kettle 2", brand: "Boil Co", price: 24.5 });
    expect(replaced.created_at).toBe(product.created_at);
    expect(Date.parse(replaced.updated_at)).toBeGreaterThanOrEqual(Date.parse(product.updated_at));

    const patch = await api(`/products/${product.sku}`, {
      method: "PATCH",
      token: superuser.token,
      json: { price: 19.99 },
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ name: "Kettle 2", brand: "Boil Co", price: 19.99 });
    const row = await env.DB.prepare("SELECT price_cents FROM products WHERE sku = ?").bind(product.sku).first();
    expect(row).toEqual({ price_cents: 1999 });
  });

  it("a PATCH that changes nothing writes nothing", async () => {
    const product = await create({ name: "Same", brand: "B", price: 5 });
    const before = await catalogCounts();
    const res = await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: { price: 5.0 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(product);
    expect(await catalogCounts()).toEqual(before);
  });

  it("DELETE answers 204, then the product is gone", async () => {
    const product = await create({ name: "Gone", brand: "B", price: 1 });
    const res = await api(`/products/${product.sku}`, { method: "DELETE", token: admin.token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await api(`/products/${product.sku}`), 404);
    await expectProblem(await api(`/products/${product.sku}`, { method: "DELETE", token: admin.token }), 404);
  });

  it("unknown and malformed skus are 404 and 400", async () => {
    await expectProblem(await api(`/products/${MISSING}`), 404);
    await expectProblem(
      await api(`/products/${MISSING}`, { method: "PATCH", token: admin.token, json: { price: 1 } }),
      404,
    );
    await expectProblem(
      await api(`/products/${MISSING}`, {
        method: "PUT",
        token: admin.token,
        json: { name: "a", brand: "b", price: 1 },
      }),
      404,
    );
    await expectProblem(await api(`/products/${MISSING}/history`, { token: admin.token }), 404);
    await expectProblem(await api("/products/not-a-uuid"), 400);
    await expectProblem(await api("/products/not-a-uuid", { method: "DELETE", token: admin.token }), 400);
  });
});

describe("validation", () => {
  const invalid: [string, unknown, string][] = [
    ["negative price", { name: "A", brand: "B", price: -1 }, "price"],
    ["over-precise price", { name: "A", brand: "B", price: 1.005 }, "price"],
    ["price above a million", { name: "A", brand: "B", price: 1e7 }, "price"],
    ["price as a string", { name: "A", brand: "B", price: "12.50" }, "price"],
    ["empty name", { name: "", brand: "B", price: 1 }, "name"],
    ["blank name", { name: "   ", brand: "B", price: 1 }, "name"],
    ["name over 200", { name: "x".repeat(201), brand: "B", price: 1 }, "name"],
    ["brand over 100", { name: "A", brand: "x".repeat(101), price: 1 }, "brand"],
    ["missing brand", { name: "A", price: 1 }, "brand"],
    ["unknown field", { name: "A", brand: "B", price: 1, views: 5 }, "(body)"],
    ["client-chosen sku", { name: "A", brand: "B", price: 1, sku: MISSING }, "(body)"],
  ];

  it.each(invalid)("POST rejects a %s with 422 and writes nothing", async (_label, json, path) => {
    const before = await catalogCounts();
    const body = await expectProblem(await api("/products", { method: "POST", token: admin.token, json }), 422);
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(await catalogCounts()).toEqual(before);
  });

  it("PUT needs every field; PATCH needs at least one and validates what it gets", async () => {
    const product = await create({ name: "V", brand: "B", price: 3 });
    const put = await expectProblem(
      await api(`/products/${product.sku}`, { method: "PUT", token: admin.token, json: { name: "V2" } }),
      422,
    );
    expect(put.errors?.map((e) => e.path).sort()).toEqual(["brand", "price"]);
    await expectProblem(await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: {} }), 422);
    const patch = await expectProblem(
      await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: { price: 0.001 } }),
      422,
    );
    expect(patch.errors).toEqual([{ path: "price", message: "must have at most two decimal places" }]);
    await expectProblem(
      await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: { name: "" } }),
      422,
    );
    await expectProblem(
      await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: { colour: "red" } }),
      422,
    );
    expect(((await (await api(`/products/${product.sku}`)).json()) as Product).price).toBe(3);
  });

  it("a body that is not JSON is 415 or 400, a missing one 422", async () => {
    await expectProblem(
      await api("/products", {
        method: "POST",
        token: admin.token,
        headers: { "content-type": "text/plain" },
        body: "name=x",
      }),
      415,
    );
    await expectProblem(
      await api("/products", {
        method: "POST",
        token: admin.token,
        headers: { "content-type": "application/json" },
        body: "{",
      }),
      400,
    );
    await expectProblem(await api("/products", { method: "POST", token: admin.token }), 422);
  });
});

describe("list", () => {
  const brand = `Brand-${crypto.randomUUID().slice(0, 8)}`;
  let items: Product[];

  beforeAll(async () => {
    items = [];
    for (const [name, price] of [
      ["Alpha Chair", 49.99],
      ["beta chair", 10],
      ["Gamma Table", 120],
      ["100% Cotton_Rug", 75.5],
    ] as const) {
      items.push(await create({ name, brand, price }));
    }
  });

  const list = async (query: string) => {
    const res = await api(`/products?brand=${encodeURIComponent(brand)}&${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Page<Partial<Product>>;
  };

  it("pages with a total, newest first by default", async () => {
    const first = await list("limit=3");
    expect(first.total).toBe(4);
    expect(first.limit).toBe(3);
    expect(first.items.map((p) => p.sku)).toHaveLength(3);
    const second = await list("limit=3&offset=3");
    expect(second.items).toHaveLength(1);
    const all = [...first.items, ...second.items].map((p) => p.sku);
    expect(new Set(all)).toEqual(new Set(items.map((p) => p.sku)));
  });

  it("orders by price, name and views in both directions", async () => {
    expect((await list("ordering=price")).items.map((p) => p.price)).toEqual([10, 49.99, 75.5, 120]);
    expect((await list("ordering=-price")).items.map((p) => p.price)).toEqual([120, 75.5, 49.99, 10]);
    expect((await list("ordering=name")).items.map((p) => p.name)).toEqual([
      "100% Cotton_Rug",
      "Alpha Chair",
      "Gamma Table",
      "beta chair",
    ]);
    expect((await list("ordering=-views")).total).toBe(4);
    await expectProblem(await api("/products?ordering=sku"), 400);
    await expectProblem(await api("/products?ordering=-password"), 400);
  });

  it("filters by name text (case-insensitive, wildcards literal) and price range", async () => {
    expect((await list("q=CHAIR&ordering=price")).items.map((p) => p.name)).toEqual(["beta chair", "Alpha Chair"]);
    expect((await list("q=%25")).items.map((p) => p.name)).toEqual(["100% Cotton_Rug"]);
    expect((await list("q=n_r")).items.map((p) => p.name)).toEqual(["100% Cotton_Rug"]);
    expect((await list("min_price=10.01&max_price=75.5&ordering=price")).items.map((p) => p.price)).toEqual([
      49.99, 75.5,
    ]);
    expect((await list("min_price=10&max_price=10")).items.map((p) => p.price)).toEqual([10]);
    expect((await list("min_price=500")).total).toBe(0);
  });

  it("rejects bad filters with 400", async () => {
    for (const query of [
      "min_price=-1",
      "min_price=1.005",
      "max_price=abc",
      "max_price=2000000",
      "min_price=20&max_price=10",
      "limit=0",
      "limit=101",
      "offset=-1",
      "q=",
    ]) {
      await expectProblem(await api(`/products?${query}`), 400);
    }
  });

  it("returns only the chosen fields, or all but the omitted ones", async () => {
    const picked = await list("fields=sku,price&ordering=price&limit=1");
    expect(picked.items).toEqual([{ sku: items[1]!.sku, price: 10 }]);
    const omitted = await list("omit=views,created_at,updated_at&ordering=price&limit=1");
    expect(omitted.items).toEqual([{ sku: items[1]!.sku, name: "beta chair", brand, price: 10 }]);
    const unknown = await expectProblem(await api("/products?fields=sku,price_cents"), 400);
    expect(unknown.errors).toEqual([{ path: "fields", message: "unknown field 'price_cents'" }]);
  });
});

describe("role matrix", () => {
  const body = { name: "Role", brand: "Matrix", price: 1 };

  it("reads are open to anyone; a bad token is still a 401", async () => {
    const product = await create(body);
    for (const token of [undefined, member.token, admin.token, superuser.token]) {
      expect((await api("/products", { token })).status).toBe(200);
      expect((await api(`/products/${product.sku}`, { token })).status).toBe(200);
    }
    await expectProblem(await api("/products", { token: "not-a-jwt" }), 401);
    await expectProblem(await api(`/products/${product.sku}`, { token: "not-a-jwt" }), 401);
  });

  it("writes and history: anonymous 401, member 403, admin and superuser allowed", async () => {
    const product = await create(body);
    const routes: [string, string, unknown?][] = [
      ["POST", "/products", body],
      ["PUT", `/products/${product.sku}`, body],
      ["PATCH", `/products/${product.sku}`, { price: 2 }],
      ["DELETE", `/products/${product.sku}`],
      ["GET", `/products/${product.sku}/history`],
    ];
    const before = await catalogCounts();
    for (const [method, path, json] of routes) {
      const anonymous = await expectProblem(await api(path, { method, json }), 401);
      expect(anonymous.detail).toMatch(/sign in/i);
      await expectProblem(await api(path, { method, json, token: "not-a-jwt" }), 401);
      const forbidden = await expectProblem(await api(path, { method, json, token: member.token }), 403);
      expect(forbidden.detail).toMatch(/admin/);
    }
    expect(await catalogCounts()).toEqual(before);

    expect(
      (await api(`/products/${product.sku}`, { method: "PATCH", token: superuser.token, json: { price: 3 } })).status,
    ).toBe(200);
    expect((await api(`/products/${product.sku}/history`, { token: superuser.token })).status).toBe(200);
    expect((await api(`/products/${product.sku}`, { method: "DELETE", token: superuser.token })).status).toBe(204);
    expect((await api("/products", { method: "POST", token: superuser.token, json: body })).status).toBe(201);
  });

  it("a demoted admin's token stops working for writes at once", async () => {
    const demoted = await createUser("admin");
    await env.DB.prepare("UPDATE users SET role = 'member' WHERE id = ?").bind(demoted.id).run();
    await expectProblem(await api("/products", { method: "POST", token: demoted.token, json: body }), 401);
  });
});

describe("openapi", () => {
  it("documents every product and report route with its security", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    const paths = doc.paths;
    expect(Object.keys(paths["/api/v1/products"]!)).toEqual(expect.arrayContaining(["get", "post"]));
    expect(Object.keys(paths["/api/v1/products/{sku}"]!)).toEqual(
      expect.arrayContaining(["get", "put", "patch", "delete"]),
    );
    expect(paths["/api/v1/products/{sku}"]!.get!.security).toEqual([{}, { bearerAuth: [] }, { consoleCookie: [] }]);
    expect(paths["/api/v1/products/{sku}"]!.get!.responses).toHaveProperty("304");
    expect(paths["/api/v1/products/{sku}"]!.delete!.security).toEqual([{ bearerAuth: [] }, { consoleCookie: [] }]);
    expect(paths["/api/v1/products/{sku}/history"]!.get!.security).toEqual([{ bearerAuth: [] }, { consoleCookie: [] }]);
    expect(paths["/api/v1/reports/product-views"]!.get!.security).toEqual([{ bearerAuth: [] }, { consoleCookie: [] }]);
  });
});
