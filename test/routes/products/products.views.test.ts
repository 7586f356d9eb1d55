import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Product = { sku: string; name: string; price: number; views: number; updated_at: string };

let admin: TestUser;
let member: TestUser;

beforeAll(async () => {
  admin = await createUser("admin");
  member = await createUser("member");
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function create(name: string): Promise<Product> {
  const res = await api("/products", {
    method: "POST",
    token: admin.token,
    json: { name, brand: "Views", price: 9.99 },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Product;
}

async function storedViews(sku: string): Promise<number> {
  const row = await env.DB.prepare("SELECT views FROM products WHERE sku = ?").bind(sku).first<{ views: number }>();
  return row!.views;
}

/** Bounded poll: the real views consumer applies views in the background (max_batch_timeout = 1 s). */
async function waitForViews(sku: string, expected: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let views = await storedViews(sku);
  while (views < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    views = await storedViews(sku);
  }
  return views;
}

/** Watches the view messages the Worker sends, still delivering them to the real queue. */
function watchViewSends() {
  const send = env.VIEWS_QUEUE.send.bind(env.VIEWS_QUEUE);
  const spy = vi.spyOn(env.VIEWS_QUEUE, "send").mockImplementation((body, options) => send(body, options));
  return (sku: string) =>
    spy.mock.calls
      .map(([body]) => body as { type: string; id: string; sku: string; at: number })
      .filter((b) => b.sku === sku);
}

describe("counting views", () => {
  it("counts every anonymous single read (200 and 304) exactly, and nothing else", async () => {
    const sentFor = watchViewSends();
    const product = await create("Counted");

    // Not counted: reads with a token, list reads, reads of another product.
    for (const token of [admin.token, member.token, admin.token]) {
      expect((await api(`/products/${product.sku}`, { token })).status).toBe(200);
    }
    for (let i = 0; i < 3; i += 1) expect((await api(`/products?brand=Views&q=Counted`)).status).toBe(200);

    // Counted: four anonymous 200s and one anonymous 304.
    let etag = "";
    for (let i = 0; i < 4; i += 1) {
      const res = await api(`/products/${product.sku}`);
      expect(res.status).toBe(200);
      etag = res.headers.get("etag")!;
    }
    const notModified = await api(`/products/${product.sku}`, { headers: { "if-none-match": etag } });
    expect(notModified.status).toBe(304);

    const sent = sentFor(product.sku);
    expect(sent).toHaveLength(5);
    expect(new Set(sent.map((m) => m.id)).size).toBe(5);
    for (const message of sent) {
      expect(message.type).toBe("product.view");
      expect(Math.abs(message.at - Date.now())).toBeLessThan(60_000);
    }

    expect(await waitForViews(product.sku, 5)).toBe(5);
    // Per UTC day of each view's `at` (so a run across midnight still adds up).
    const expectedDaily: Record<string, number> = {};
    for (const message of sent) {
      const day = new Date(message.at).toISOString().slice(0, 10);
      expectedDaily[day] = (expectedDaily[day] ?? 0) + 1;
    }
    const daily = await env.DB.prepare("SELECT day, views FROM product_views_daily WHERE sku = ?")
      .bind(product.sku)
      .all<{ day: string; views: number }>();
    expect(Object.fromEntries(daily.results.map((row) => [row.day, row.views]))).toEqual(expectedDaily);

    // The anonymous read shows the counted views; the product's other fields are untouched.
    const after = (await (await api(`/products/${product.sku}`, { token: admin.token })).json()) as Product;
    expect(after.views).toBe(5);
    expect(after.updated_at).toBe(product.updated_at);
  });

  it("sends nothing for a HEAD, a missing product or a bad token", async () => {
    const sentFor = watchViewSends();
    const product = await create("Headed");
    const head = await api(`/products/${product.sku}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toMatch(/^W\//);
    expect(sentFor(product.sku)).toEqual([]);
    const missing = crypto.randomUUID();
    await expectProblem(await api(`/products/${missing}`), 404);
    await expectProblem(await api(`/products/${missing}`, { token: "bad" }), 401);
    expect(sentFor(missing)).toEqual([]);
  });
});

describe("ETag and Cache-Control", () => {
  it("anonymous reads are public and short-lived, signed-in reads private", async () => {
    const product = await create("Cached");
    const anonymous = await api(`/products/${product.sku}`);
    expect(anonymous.headers.get("cache-control")).toBe("public, max-age=10");
    expect(anonymous.headers.get("vary")).toMatch(/authorization/i);
    expect(anonymous.headers.get("etag")).toMatch(/^W\/"[0-9a-f]{32}"$/);
    const signedIn = await api(`/products/${product.sku}`, { token: member.token });
    expect(signedIn.headers.get("cache-control")).toBe("private, no-store");
    expect(signedIn.headers.get("etag")).toBe(anonymous.headers.get("etag"));

    const list = await api("/products?brand=Views");
    expect(list.headers.get("cache-control")).toBe("public, max-age=10");
    expect((await api("/products?brand=Views", { token: admin.token })).headers.get("cache-control")).toBe(
      "private, no-store",
    );
  });

  it("If-None-Match answers 304 without a body; the tag ignores views but follows every other change", async () => {
    const product = await create("Tagged");
    const first = await api(`/products/${product.sku}`, { token: admin.token });
    const etag = first.headers.get("etag")!;

    for (const header of [etag, etag.replace(/^W\//, ""), `"nope", ${etag}`, "*"]) {
      const res = await api(`/products/${product.sku}`, { token: admin.token, headers: { "if-none-match": header } });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("private, no-store");
    }
    expect((await api(`/products/${product.sku}`, { headers: { "if-none-match": '"other"' } })).status).toBe(200);

    // Counting views does not invalidate cached copies.
    await env.DB.prepare("UPDATE products SET views = views + 7 WHERE sku = ?").bind(product.sku).run();
    const counted = await api(`/products/${product.sku}`, { token: admin.token });
    expect(((await counted.json()) as Product).views).toBeGreaterThanOrEqual(7);
    expect(counted.headers.get("etag")).toBe(etag);

    // A real change does.
    const patched = await api(`/products/${product.sku}`, { method: "PATCH", token: admin.token, json: { price: 8 } });
    expect(patched.status).toBe(200);
    const stale = await api(`/products/${product.sku}`, { token: admin.token, headers: { "if-none-match": etag } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get("etag")).not.toBe(etag);
  });

  it("list pages carry an ETag too, and it changes when the page does", async () => {
    const brand = `Etag-${crypto.randomUUID().slice(0, 8)}`;
    const one = await api("/products", { method: "POST", token: admin.token, json: { name: "L1", brand, price: 1 } });
    expect(one.status).toBe(201);
    const first = await api(`/products?brand=${brand}`);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\//);
    const again = await api(`/products?brand=${brand}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    await api("/products", { method: "POST", token: admin.token, json: { name: "L2", brand, price: 2 } });
    const changed = await api(`/products?brand=${brand}`, { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { total: number }).total).toBe(2);
  });
});
