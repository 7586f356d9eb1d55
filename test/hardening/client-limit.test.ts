import { describe, expect, it } from "vitest";
import { api } from "../helpers";

const LIMIT = 300; // wrangler.toml [[ratelimits]] PUBLIC_LIMITER: 300 per 10 s

/** Sends `count` anonymous catalog reads from one address, all at once; returns the statuses. */
async function flood(address: string, count: number): Promise<Response[]> {
  return Promise.all(
    Array.from({ length: count }, () => api("/products?limit=1", { headers: { "cf-connecting-ip": address } })),
  );
}

describe("the per-client backstop on every /api request (PUBLIC_LIMITER)", { timeout: 60_000 }, () => {
  it("refuses a flood from one address with 429 and Retry-After, and leaves other addresses alone", async () => {
    const address = `192.0.2.${Math.floor(Math.random() * 250) + 1}`;
    // The binding counts in fixed 10 s windows: a flood that straddles a window's end may pass up to twice the
    // limit, never more.
    const answers = await flood(address, 2 * LIMIT + 20);
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2 * LIMIT);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(LIMIT);
    const refused = answers.find((res) => res.status === 429)!;
    expect(refused).toBeDefined();
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const other = await api("/products?limit=1", { headers: { "cf-connecting-ip": "198.51.100.250" } });
    expect(other.status).toBe(200);
  });

  it("does not count loopback addresses in development (npm start's clients share 127.0.0.1)", async () => {
    const statuses = (await flood("127.0.0.1", LIMIT + 20)).map((res) => res.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
