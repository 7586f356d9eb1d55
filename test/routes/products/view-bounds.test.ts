import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { api, createUser } from "../../helpers";

/**
 * Anonymous views counted per client: VIEW_LIMITER (wrangler.toml, 120 a minute, keyed like every per-client limit:
 * an IPv6 client by its /64). Past it a read is served as usual and not counted, so one client cannot fill the
 * views queue and the idempotency rows each counted view keeps in D1.
 */

const LIMIT = 120;
let sku: string;
let sent: { sku: string }[] = [];

beforeAll(async () => {
  const admin = await createUser("admin");
  const res = await api("/products", {
    method: "POST",
    token: admin.token,
    json: { name: "Viewed", brand: "V", price: 1 },
  });
  sku = ((await res.json()) as { sku: string }).sku;
});

/** An anonymous read from `address`, through the Worker with the views queue replaced by a recorder. */
async function read(address: string) {
  const ctx = createExecutionContext();
  const queue = { send: async (message: { sku: string }) => void sent.push(message) } as unknown as Queue;
  const res = await worker.fetch!(
    new Request(`http://localhost/api/v1/products/${sku}`, { headers: { "cf-connecting-ip": address } }) as never,
    { ...env, VIEWS_QUEUE: queue },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("views counted per client", { timeout: 60_000 }, () => {
  it("a flood from one /64 is served in full and counted up to the limit; another client still counts", async () => {
    sent = [];
    const net = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:77`;
    // 250 reads (under the 300-per-10 s backstop), each from its own address of the /64.
    const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => read(`${net}::${(i + 1).toString(16)}`)));
    expect(answers.every((res) => res.status === 200)).toBe(true);
    // Fixed 60 s windows: a flood straddling a window's end may count up to twice the limit, never more.
    expect(sent.length).toBeGreaterThanOrEqual(LIMIT);
    expect(sent.length).toBeLessThanOrEqual(2 * LIMIT);
    sent = [];
    await read("203.0.113.99");
    expect(sent).toEqual([expect.objectContaining({ type: "product.view", sku })]);
  });

  it("loopback callers in development are not limited (npm start's clients all share 127.0.0.1)", async () => {
    sent = [];
    for (let i = 0; i < LIMIT + 10; i++) await read("127.0.0.1");
    expect(sent).toHaveLength(LIMIT + 10);
  });
});
