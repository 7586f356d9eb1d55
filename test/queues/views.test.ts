import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { utcDay } from "../../src/lib/time";
import { handleQueue } from "../../src/queues";
import { backoffSeconds } from "../../src/queues/backoff";
import { handleViewsBatch, type ProductViewMessage, tallyViews } from "../../src/queues/views";

const DAY1 = Date.parse("2026-03-01T10:00:00Z");
const DAY2 = Date.parse("2026-03-02T23:59:59Z");

async function newProduct(): Promise<string> {
  const sku = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at) VALUES (?, 'Q', 'B', 100, 0, 0, 0)",
  )
    .bind(sku)
    .run();
  return sku;
}

const view = (sku: string, at = DAY1, id: string = crypto.randomUUID()): ProductViewMessage => ({
  type: "product.view",
  id,
  sku,
  at,
});

/** Runs bodies through the Worker's queue entry point, the way the views consumer receives them. */
async function deliver(bodies: unknown[], attempts = 1, settings: Record<string, string> = {}) {
  const batch = createMessageBatch(
    "views",
    bodies.map((body, i) => ({ id: `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, { ...env, ...settings } as Env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { batch, result };
}

async function views(sku: string) {
  const row = await env.DB.prepare("SELECT views FROM products WHERE sku = ?").bind(sku).first<{ views: number }>();
  return row?.views;
}

async function daily(sku: string) {
  const { results } = await env.DB.prepare("SELECT day, views FROM product_views_daily WHERE sku = ? ORDER BY day")
    .bind(sku)
    .all<{ day: string; views: number }>();
  return results;
}

describe("tallyViews", () => {
  it("counts per SKU and per UTC day", () => {
    const { perSku, perDay } = tallyViews([view("a", DAY1), view("a", DAY2), view("a", DAY2), view("b", DAY1)]);
    expect(Object.fromEntries(perSku)).toEqual({ a: 3, b: 1 });
    expect(perDay).toEqual([
      { sku: "a", day: "2026-03-01", views: 1 },
      { sku: "a", day: "2026-03-02", views: 2 },
      { sku: "b", day: "2026-03-01", views: 1 },
    ]);
    expect(utcDay(Date.parse("2026-03-01T23:59:59.999Z"))).toBe("2026-03-01");
  });
});

describe("product.view consumer", () => {
  it("adds views per SKU and per day and acks every message", async () => {
    const a = await newProduct();
    const b = await newProduct();
    const { batch, result } = await deliver([view(a, DAY1), view(a, DAY2), view(b, DAY2), view(a, DAY2)]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(await views(a)).toBe(3);
    expect(await views(b)).toBe(1);
    expect(await daily(a)).toEqual([
      { day: "2026-03-01", views: 1 },
      { day: "2026-03-02", views: 2 },
    ]);
    expect(await daily(b)).toEqual([{ day: "2026-03-02", views: 1 }]);
  });

  it("a redelivered batch counts once, and a batch adds to earlier days' counts", async () => {
    const sku = await newProduct();
    const bodies = [view(sku), view(sku), view(sku, DAY2)];
    await deliver(bodies);
    const again = await deliver(bodies, 2);
    expect(again.result.explicitAcks).toHaveLength(3);
    expect(again.result.retryMessages).toEqual([]);
    expect(await views(sku)).toBe(3);

    await deliver([view(sku), ...bodies]);
    expect(await views(sku)).toBe(4);
    expect(await daily(sku)).toEqual([
      { day: "2026-03-01", views: 3 },
      { day: "2026-03-02", views: 1 },
    ]);
  });

  it("the same message id twice inside one batch counts once", async () => {
    const sku = await newProduct();
    const twice = view(sku);
    const { result } = await deliver([twice, { ...twice }, view(sku)]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await views(sku)).toBe(2);
  });

  it("acks views of a SKU that does not exist and malformed bodies without recording anything", async () => {
    const gone = crypto.randomUUID();
    const sku = await newProduct();
    const { result } = await deliver([
      view(gone),
      { type: "product.view", id: crypto.randomUUID(), sku: "not-a-uuid", at: DAY1 },
      { type: "product.view", id: crypto.randomUUID(), sku, at: "yesterday" },
      { type: "product.view", sku, at: DAY1 },
      view(sku),
    ]);
    expect(result.explicitAcks).toHaveLength(5);
    expect(result.retryMessages).toEqual([]);
    expect(await daily(gone)).toEqual([]);
    expect(await views(sku)).toBe(1);
  });

  it("acks a message whose type names an Object.prototype member as unknown, and applies the rest", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const sku = await newProduct();
    const { batch, result } = await deliver([
      { type: "__proto__", id: crypto.randomUUID() },
      { type: "constructor", id: crypto.randomUUID() },
      { type: "toString", id: crypto.randomUUID() },
      view(sku),
    ]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(await views(sku)).toBe(1);
  });

  it("handles a batch larger than one statement's parameters (chunked INSERTs of processed ids)", async () => {
    const skus = [await newProduct(), await newProduct(), await newProduct()];
    const bodies = Array.from({ length: 150 }, (_, i) => view(skus[i % 3]!, i % 2 === 0 ? DAY1 : DAY2));
    const { result } = await deliver(bodies);
    expect(result.explicitAcks).toHaveLength(150);
    for (const sku of skus) expect(await views(sku)).toBe(50);
    const processed = await env.DB.prepare(
      `SELECT count(*) AS n FROM processed_messages WHERE queue = 'views' AND id IN (SELECT value FROM json_each(?))`,
    )
      .bind(JSON.stringify(bodies.map((b) => b.id)))
      .first<{ n: number }>();
    expect(processed?.n).toBe(150);
  });

  it("retries every message with backoff when the write fails, and nothing is half-written", async () => {
    const sku = await newProduct();
    const failing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return () => Promise.reject(new Error("D1 is unavailable"));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const bodies = [view(sku), view(sku)];
    const batch = createMessageBatch(
      "views",
      bodies.map((body, i) => ({ id: `fail-${i}`, timestamp: new Date(), attempts: 3, body })),
    );
    const ctx = createExecutionContext();
    // getQueueResult does not report delays, so watch the retry calls themselves.
    const retries = batch.messages.map((message) => vi.spyOn(message, "retry"));
    await handleViewsBatch(batch, { ...env, DB: failing });
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "fail-0" }, { msgId: "fail-1" }]);
    for (const retry of retries) expect(retry).toHaveBeenCalledWith({ delaySeconds: backoffSeconds(3) });
    expect(backoffSeconds(3)).toBe(8);
    expect(await views(sku)).toBe(0);

    // The retry goes through and counts both.
    await deliver(bodies, 4);
    expect(await views(sku)).toBe(2);
  });

  it("rolls the whole batch back when another consumer recorded one of its ids meanwhile", async () => {
    const sku = await newProduct();
    const raced = view(sku);
    const other = view(sku);
    // Between our lookup and our batch, a concurrent delivery of `raced` commits.
    const racing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            await target
              .prepare("INSERT INTO processed_messages (id, queue, processed_at) VALUES (?, 'views', 0)")
              .bind(raced.id)
              .run();
            await target.prepare("UPDATE products SET views = views + 1 WHERE sku = ?").bind(sku).run();
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const batch = createMessageBatch("views", [
      { id: "r-0", timestamp: new Date(), attempts: 1, body: raced },
      { id: "r-1", timestamp: new Date(), attempts: 1, body: other },
    ]);
    const ctx = createExecutionContext();
    await handleViewsBatch(batch, { ...env, DB: racing });
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["r-0", "r-1"]);
    expect(await views(sku)).toBe(1); // only the concurrent delivery's view
    expect(await daily(sku)).toEqual([]);

    await deliver([raced, other], 2);
    expect(await views(sku)).toBe(2);
    expect(await daily(sku)).toEqual([{ day: "2026-03-01", views: 1 }]);
  });
});

describe("the daily views budget (VIEWS_MAX_PER_DAY, the whole catalog)", () => {
  const processedOf = async (bodies: ProductViewMessage[]) =>
    (await env.DB.prepare(
      "SELECT count(*) AS n FROM processed_messages WHERE queue = 'views' AND id IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(bodies.map((b) => b.id)))
      .first<{ n: number }>())!.n;

  it("counts views up to the budget; the rest are acked with no D1 row, until the next day", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const budget = { VIEWS_MAX_PER_DAY: "100" };
    // A day of its own, so no other test's views count against this budget.
    const day = Date.parse("2031-07-14T12:00:00Z");
    const [a, b] = [await newProduct(), await newProduct()];
    const first = Array.from({ length: 150 }, (_, i) => view(i % 2 ? a : b, day));
    const one = await deliver(first, 1, budget);
    expect(one.result.explicitAcks).toHaveLength(150);
    expect(one.result.retryMessages).toEqual([]);
    expect((await views(a))! + (await views(b))!).toBe(100);
    expect(await processedOf(first)).toBe(100);

    const flood = Array.from({ length: 100 }, () => view(a, day));
    const two = await deliver(flood, 1, budget);
    expect(two.result.explicitAcks).toHaveLength(100);
    expect(await processedOf(flood)).toBe(0);
    expect((await views(a))! + (await views(b))!).toBe(100);

    const nextDay = [view(a, day + 86_400_000), view(b, day + 86_400_000)];
    await deliver(nextDay, 1, budget);
    expect(await processedOf(nextDay)).toBe(2);
    expect(await daily(a)).toEqual([
      { day: "2031-07-14", views: expect.any(Number) },
      { day: "2031-07-15", views: 1 },
    ]);
  });
});
