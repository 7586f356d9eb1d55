import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { itemKey } from "../../../src/routes/products/products.cache";
import { d1Cost } from "../../d1-cost";
import { createUser, type TestUser } from "../../helpers";

let admin: TestUser;
let member: TestUser;
let sent: unknown[];

beforeAll(async () => {
  admin = await createUser("admin");
  member = await createUser("member");
});

/**
 * One request through the Worker's fetch handler, waiting for what it left running after the response (the cache put,
 * the view's queue send), so the next request sees the cache as the first one left it. Views sent go to `sent`.
 */
async function fetchApi(path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`http://localhost/api/v1${path}`, {
    ...init,
    headers,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });
  const ctx = createExecutionContext();
  const queue = { send: async (message: unknown) => void sent.push(message) } as unknown as Queue;
  const res = await worker.fetch!(request as never, { ...env, VIEWS_QUEUE: queue }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function createProduct(name: string) {
  const res = await fetchApi("/products", {
    method: "POST",
    token: admin.token,
    json: { name, brand: "Cache", price: 3 },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { sku: string; name: string };
}

describe("anonymous catalog reads from the Cache API", () => {
  beforeAll(() => {
    sent = [];
  });

  it("a product: MISS reads D1, HIT reads nothing and still counts the view", async () => {
    const { sku } = await createProduct("Cached once");
    sent = [];
    const miss = await fetchApi(`/products/${sku}`);
    expect(miss.status).toBe(200);
    expect(miss.headers.get("x-cache")).toBe("MISS");
    expect(d1Cost(miss).roundTrips).toBe(1);
    const hit = await fetchApi(`/products/${sku}`);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(d1Cost(hit)).toEqual({ roundTrips: 0, rowsRead: 0, rowsWritten: 0 });
    expect(await hit.json()).toEqual(await miss.json());
    expect(hit.headers.get("etag")).toBe(miss.headers.get("etag"));
    expect(hit.headers.get("cache-control")).toBe("public, max-age=10");
    expect(hit.headers.get("x-request-id")).toBeTruthy();
    expect(hit.headers.get("x-content-type-options")).toBe("nosniff");
    // Both reads are views, sent to the queue as before.
    expect(sent).toEqual([
      expect.objectContaining({ type: "product.view", sku }),
      expect.objectContaining({ type: "product.view", sku }),
    ]);
  });

  it("a hit with a matching If-None-Match is a 304 that keeps its cache headers, and still a view", async () => {
    const { sku } = await createProduct("Cached 304");
    const first = await fetchApi(`/products/${sku}`);
    const etag = first.headers.get("etag")!;
    sent = [];
    const res = await fetchApi(`/products/${sku}`, { headers: { "if-none-match": etag } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("etag")).toBe(etag);
    expect(res.headers.get("x-cache")).toBe("HIT");
    expect(res.headers.get("cache-control")).toBe("public, max-age=10");
    expect(d1Cost(res).roundTrips).toBe(0);
    expect(sent).toHaveLength(1);
  });

  it("a list: MISS then HIT, the same query in another parameter order included", async () => {
    await createProduct("List entry");
    const miss = await fetchApi("/products?brand=Cache&limit=5");
    expect(miss.headers.get("x-cache")).toBe("MISS");
    const hit = await fetchApi("/products?limit=5&brand=Cache");
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(d1Cost(hit).rowsRead).toBe(0);
    expect(await hit.json()).toEqual(await miss.json());
  });

  it("an admin write purges the product and every list where it runs", async () => {
    const { sku } = await createProduct("Before");
    await fetchApi(`/products/${sku}`);
    await fetchApi("/products?brand=Cache&limit=100");
    expect((await fetchApi(`/products/${sku}`)).headers.get("x-cache")).toBe("HIT");
    expect((await fetchApi("/products?brand=Cache&limit=100")).headers.get("x-cache")).toBe("HIT");

    const patched = await fetchApi(`/products/${sku}`, {
      method: "PATCH",
      token: admin.token,
      json: { name: "After" },
    });
    expect(patched.status).toBe(200);
    const item = await fetchApi(`/products/${sku}`);
    expect(item.headers.get("x-cache")).toBe("MISS");
    expect(((await item.json()) as { name: string }).name).toBe("After");
    const list = await fetchApi("/products?brand=Cache&limit=100");
    expect(list.headers.get("x-cache")).toBe("MISS");
    const names = ((await list.json()) as { items: { sku: string; name: string }[] }).items;
    expect(names.find((p) => p.sku === sku)?.name).toBe("After");

    // A create shows up in cached lists at once (here), a delete removes the item's copy.
    const created = await createProduct("Brand new");
    const after = (await (await fetchApi("/products?brand=Cache&limit=100")).json()) as { items: { sku: string }[] };
    expect(after.items.map((p) => p.sku)).toContain(created.sku);
    expect((await fetchApi(`/products/${sku}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await fetchApi(`/products/${sku}`)).status).toBe(404);
  });

  it("signed-in callers are never served from, nor stored in, the cache", async () => {
    const { sku } = await createProduct("Private");
    for (let i = 0; i < 2; i += 1) {
      const res = await fetchApi(`/products/${sku}`, { token: member.token });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-cache")).toBeNull();
      expect(res.headers.get("cache-control")).toBe("private, no-store");
      expect(d1Cost(res).roundTrips).toBe(1);
    }
    expect(await caches.default.match(itemKey(sku))).toBeUndefined();
    // The anonymous read after them is still a miss: nothing signed-in was stored.
    expect((await fetchApi(`/products/${sku}`)).headers.get("x-cache")).toBe("MISS");
  });

  it("errors are never cached", async () => {
    const sku = crypto.randomUUID();
    for (let i = 0; i < 2; i += 1) {
      const res = await fetchApi(`/products/${sku}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("x-cache")).toBeNull();
      expect(d1Cost(res).roundTrips).toBe(1);
    }
    expect(await caches.default.match(itemKey(sku))).toBeUndefined();
    const bad = await fetchApi("/products?min_price=abc");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("x-cache")).toBeNull();
  });
});

describe("list cache keys: one per list, however it is spelled", () => {
  /** The first read of a fresh spelling set: a miss that stores the list; then every other spelling must hit. */
  async function expectOneEntry(first: string, others: string[]) {
    const miss = await fetchApi(first);
    expect(miss.status).toBe(200);
    expect(miss.headers.get("x-cache")).toBe("MISS");
    const body = await miss.json();
    for (const path of others) {
      const res = await fetchApi(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-cache"), path).toBe("HIT");
      expect(d1Cost(res), path).toEqual({ roundTrips: 0, rowsRead: 0, rowsWritten: 0 });
      expect(await res.json(), path).toEqual(body);
      expect(res.headers.get("etag"), path).toBe(miss.headers.get("etag"));
    }
  }

  it("unknown parameters neither make a new entry nor cost a D1 read", async () => {
    const brand = `Keys-${crypto.randomUUID().slice(0, 8)}`;
    await fetchApi("/products", { method: "POST", token: admin.token, json: { name: "Key", brand, price: 2 } });
    await expectOneEntry(`/products?brand=${brand}`, [
      `/products?brand=${brand}&zzz=1`,
      `/products?zzz=2&brand=${brand}&cache_buster=${crypto.randomUUID()}`,
      `/products?brand=${brand}&zzz=1&zzz=2&__proto__=x`,
    ]);
    // And the other way round: a list first asked with junk is stored under the clean key.
    await expectOneEntry(`/products?brand=${brand}&limit=3&junk=${crypto.randomUUID()}`, [
      `/products?limit=3&brand=${brand}`,
    ]);
  });

  it("defaults, parameter order, spellings of one price, field order and ASCII case of q are one key", async () => {
    const brand = `Keys-${crypto.randomUUID().slice(0, 8)}`;
    await fetchApi("/products", { method: "POST", token: admin.token, json: { name: "Mug Key", brand, price: 2 } });
    await expectOneEntry(`/products?brand=${brand}`, [
      `/products?brand=${brand}&limit=20&offset=0`,
      `/products?ordering=-created_at&brand=${brand}`,
      `/products?brand=${brand}&fields=sku,name,brand,price,views,created_at,updated_at`,
    ]);
    await expectOneEntry(`/products?brand=${brand}&min_price=1&max_price=5`, [
      `/products?max_price=5.00&min_price=1.0&brand=${brand}`,
    ]);
    await expectOneEntry(`/products?brand=${brand}&fields=name,sku`, [
      `/products?fields=sku,name&brand=${brand}`,
      `/products?brand=${brand}&omit=brand,price,views,created_at,updated_at`,
    ]);
    await expectOneEntry(`/products?brand=${brand}&q=MUG`, [`/products?q=mug&brand=${brand}`]);
  });

  it("lists that differ are different keys", async () => {
    const brand = `Keys-${crypto.randomUUID().slice(0, 8)}`;
    await fetchApi("/products", { method: "POST", token: admin.token, json: { name: "A", brand, price: 2 } });
    for (const path of [
      `/products?brand=${brand}`,
      `/products?brand=${brand}&limit=19`,
      `/products?brand=${brand}&offset=1`,
      `/products?brand=${brand}&ordering=created_at`,
      `/products?brand=${brand}&fields=sku`,
      `/products?brand=${brand}&min_price=2`,
      `/products?brand=${brand}&q=a`,
      `/products?brand=${brand.toLowerCase()}`,
    ]) {
      expect((await fetchApi(path)).headers.get("x-cache"), path).toBe("MISS");
    }
  });
});

describe("D1 sessions: bookmarks", () => {
  it("every D1 answer carries a bookmark; a write's bookmark sent back sees the write", async () => {
    const created = await fetchApi("/products", {
      method: "POST",
      token: admin.token,
      json: { name: "Bookmarked", brand: "Sessions", price: 1 },
    });
    const bookmark = created.headers.get("x-d1-bookmark");
    expect(bookmark).toMatch(/^[0-9a-f]{8}-/);
    const { sku } = (await created.json()) as { sku: string };
    const read = await fetchApi(`/products/${sku}`, { token: member.token, headers: { "x-d1-bookmark": bookmark! } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { name: string }).name).toBe("Bookmarked");
    // The answer's bookmark is at least as fresh as the one sent.
    const next = read.headers.get("x-d1-bookmark");
    expect(next).toBeTruthy();
    expect(next! >= bookmark!).toBe(true);
  });

  it("concurrent requests each have their own session and meter", async () => {
    const writes = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        fetchApi("/products", {
          method: "POST",
          token: admin.token,
          json: { name: `Same time ${i}`, brand: "S", price: 1 },
        }),
      ),
    );
    expect(writes.map((res) => res.status)).toEqual([201, 201, 201, 201]);
    // Each is its own two round trips (read with the caller check, then the change), none counted in another.
    expect(writes.map((res) => d1Cost(res).roundTrips)).toEqual([2, 2, 2, 2]);
  });

  it("a bookmark that is not one is a 400, not a 500", async () => {
    const res = await fetchApi("/products", { headers: { "x-d1-bookmark": "not a bookmark; drop table" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/problem\+json/);
  });

  it("every response tells its D1 cost, the constant route included", async () => {
    const live = await worker.fetch!(
      new Request("http://localhost/health/live") as never,
      env,
      createExecutionContext(),
    );
    expect(live.headers.get("server-timing")).toMatch(/^d1;desc="rt=0 read=0 written=0";dur=\d+/);
  });
});
