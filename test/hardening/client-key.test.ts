import { describe, expect, it } from "vitest";
import { addressKey, isLoopback } from "../../src/auth/client";
import { api, apiWith } from "../helpers";

/**
 * Every per-client limit keys an IPv6 client on its /64 (a host may use any of its 2^64 addresses) and an
 * IPv4-mapped address as the IPv4 client. Each limit is flooded through the real route from many addresses of one
 * /64, written in different text forms, and another /64 is served at once.
 */

const hex = () => Math.floor(Math.random() * 0xffff).toString(16);
const unique = () => crypto.randomUUID().slice(0, 8);

/** A fresh /64 per call, so tests never share a bucket; `at(i)` gives its i-th address in a rotating text form. */
function prefix64() {
  const [a, b] = [hex(), hex()];
  const forms = [
    (i: number) => `2001:db8:${a}:${b}::${(i + 1).toString(16)}`,
    (i: number) => `2001:0DB8:${a.padStart(4, "0").toUpperCase()}:${b}:0:0:0:${(i + 1).toString(16)}`,
    (i: number) => `2001:db8:${a}:${b}:${hex()}:${hex()}:${hex()}:${i.toString(16)}`,
    (i: number) => `2001:db8:${a}:${b}:${(i + 1).toString(16)}::`,
  ];
  return { key: `2001:db8:${a}:${b}::/64`, at: (i: number) => forms[i % forms.length]!(i) };
}

/** A JSON POST from `address` with some settings lowered, so a limit is reached with a few (scrypt) requests. */
const post = (path: string, json: unknown, address: string, settings: Record<string, string>) =>
  apiWith(settings, path, { method: "POST", json, headers: { "cf-connecting-ip": address } });

describe("addressKey: one key per IPv4 address and per IPv6 /64", () => {
  it("keeps IPv4 as it is and maps IPv4-mapped IPv6 to it", () => {
    expect(addressKey("203.0.113.5")).toBe("203.0.113.5");
    expect(addressKey(" 203.0.113.5 ")).toBe("203.0.113.5");
    expect(addressKey("::ffff:203.0.113.5")).toBe("203.0.113.5");
    expect(addressKey("::FFFF:cb00:7105")).toBe("203.0.113.5");
    expect(addressKey("0:0:0:0:0:ffff:203.0.113.5")).toBe("203.0.113.5");
  });

  it("cuts IPv6 to its /64 whatever the text form: compressed, full, padded, upper case, with a zone", () => {
    const key = "2001:db8:0:0::/64";
    for (const form of [
      "2001:db8::1",
      "2001:db8::2",
      "2001:DB8::",
      "2001:0db8:0000:0000:ffff:ffff:ffff:ffff",
      "2001:db8:0:0:1::",
      "2001:db8::abcd:1.2.3.4",
      "2001:db8::1%eth0",
    ]) {
      expect(addressKey(form), form).toBe(key);
    }
    expect(addressKey("2001:db8:0:1::1")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8:1::1")).toBe("2001:db8:1:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("2606:4700:4700::1111")).toBe("2606:4700:4700:0::/64");
  });

  it("leaves what is not an address alone, and tells loopback apart", () => {
    for (const junk of ["not-an-ip", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9", "256.1.1.1", "12345::1", "::ffff:1.2.3"]) {
      expect(addressKey(junk), junk).toBe(junk);
    }
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("127.9.9.9")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0:0:0:0:0:0:0:1")).toBe(true);
    expect(isLoopback("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopback("::2")).toBe(false);
    expect(isLoopback("2001:db8::1")).toBe(false);
    expect(isLoopback("10.0.0.1")).toBe(false);
  });
});

describe("every per-client limit counts a /64 as one client", { timeout: 60_000 }, () => {
  it("the /api backstop (PUBLIC_LIMITER, 300 per 10 s)", async () => {
    const net = prefix64();
    const read = (address: string) => api("/products?limit=1", { headers: { "cf-connecting-ip": address } });
    // Each request from its own address of the /64; the binding counts in fixed 10 s windows, so a flood that
    // straddles a window's end may pass up to twice the limit, never more.
    const statuses = (await Promise.all(Array.from({ length: 620 }, (_, i) => read(net.at(i))))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(600);
    expect(statuses).toContain(429);
    expect((await read(prefix64().at(0))).status).toBe(200);
  });

  it("sign-up per address", async () => {
    const net = prefix64();
    const limits = { SIGNUP_MAX_PER_ADDRESS: "2", ALLOW_SIGNUP: "true" };
    const register = (address: string) =>
      post(
        "/auth/register",
        { email: `v6-${unique()}@example.com`, password: "a long enough password" },
        address,
        limits,
      );
    expect((await register(net.at(0))).status).toBe(201);
    expect((await register(net.at(1))).status).toBe(201);
    expect((await register(net.at(2))).status).toBe(429);
    expect((await register(prefix64().at(0))).status).toBe(201);
  });

  it("sign-in per address (a spray over many accounts)", async () => {
    const net = prefix64();
    // LOGIN_MAX_FAILURES 1: an address may try ADDRESS_FACTOR (4) times per window.
    const limits = { LOGIN_MAX_FAILURES: "1", LOGIN_WINDOW_SECONDS: "600" };
    const login = (address: string) =>
      post("/auth/login", { email: `nobody-${unique()}@example.com`, password: "guess" }, address, limits);
    for (let i = 0; i < 4; i++) expect((await login(net.at(i))).status).toBe(401);
    expect((await login(net.at(4))).status).toBe(429);
    expect((await login(prefix64().at(0))).status).toBe(401);
  });

  it("forgot-password per address", async () => {
    const net = prefix64();
    const limits = { LOGIN_MAX_FAILURES: "1", LOGIN_WINDOW_SECONDS: "600" };
    const forgot = (address: string) =>
      post("/auth/password/forgot", { email: `nobody-${unique()}@example.com` }, address, limits);
    for (let i = 0; i < 4; i++) expect((await forgot(net.at(i))).status).toBe(202);
    expect((await forgot(net.at(4))).status).toBe(429);
    expect((await forgot(prefix64().at(0))).status).toBe(202);
  });

  it("IPv4-mapped IPv6 and the IPv4 address are one client", async () => {
    const v4 = `198.51.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const limits = { LOGIN_MAX_FAILURES: "1", LOGIN_WINDOW_SECONDS: "600" };
    const forgot = (address: string) =>
      post("/auth/password/forgot", { email: `nobody-${unique()}@example.com` }, address, limits);
    for (const address of [v4, `::ffff:${v4}`, `::FFFF:${v4}`, v4]) expect((await forgot(address)).status).toBe(202);
    expect((await forgot(`::ffff:${v4}`)).status).toBe(429);
  });

  it("cursor session creation (20 a minute per client)", async () => {
    const net = prefix64();
    const create = (address: string) =>
      api("/cursor/sessions", {
        method: "POST",
        headers: { "cf-connecting-ip": address },
        json: { viewport: { width: 10, height: 10 } },
      });
    // Fixed 60 s windows: within one, 20 pass; a run straddling a window's end may see up to 40, never more.
    const statuses: number[] = [];
    while (statuses.length < 41 && statuses.at(-1) !== 429)
      statuses.push((await create(net.at(statuses.length))).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(20);
    expect((await create(prefix64().at(0))).status).toBe(201);
  });
});
