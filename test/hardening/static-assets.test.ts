import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HSTS } from "../../src/middleware/edge";
import { call } from "../helpers";

/**
 * Static files (public/) pass through the Worker (run_worker_first = true), so they carry exactly the headers an API
 * answer carries: a request id, the same CSP and security headers, HSTS over HTTPS only.
 */
const ASSETS = [
  ["the page", "/", "text/html"],
  ["the page by name", "/index.html", "text/html"],
  ["its script", "/assets/cursor.js", "javascript"],
  ["its stylesheet", "/assets/cursor.css", "text/css"],
  ["the icon", "/favicon.ico", ""],
] as const;

/** Headers every answer must share with the API's; date-like and per-response ones are left out. */
const SHARED = [
  "content-security-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "origin-agent-cluster",
  "referrer-policy",
  "x-content-type-options",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-frame-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
];

const pick = (res: Response) => Object.fromEntries(SHARED.map((name) => [name, res.headers.get(name)]));

describe("static assets carry the API's headers", () => {
  it("the API's own headers are the reference (CSP from src/middleware/edge.ts)", async () => {
    const api = await call("/health");
    expect(api.headers.get("content-security-policy")).toContain("script-src 'self';");
    for (const name of SHARED) expect(api.headers.get(name), name).not.toBeNull();
    await api.body?.cancel();
  });

  for (const [label, path, type] of ASSETS) {
    it(`${label} (${path}): served from public/ with the same security headers and a request id`, async () => {
      const api = await call("/health");
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type") ?? "").toContain(type);
      expect(pick(res)).toEqual(pick(api));
      expect(res.headers.get("x-request-id")).toMatch(/^[\w-]{8,}$/);
      expect(res.headers.get("x-request-id")).not.toBe(api.headers.get("x-request-id"));
      expect(res.headers.get("strict-transport-security")).toBeNull();
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      await api.body?.cancel();
    });
  }

  it("HSTS on a static file over HTTPS, as on the API", async () => {
    const res = await exports.default.fetch(new Request("https://backoffice.example/assets/cursor.js"));
    expect(res.status).toBe(200);
    expect(res.headers.get("strict-transport-security")).toBe(HSTS);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    await res.body?.cancel();
  });

  it("a revalidation (If-None-Match) is a 304 with the same headers", async () => {
    const first = await call("/assets/cursor.js");
    const etag = first.headers.get("etag");
    await first.body?.cancel();
    expect(etag).toBeTruthy();
    const again = await call("/assets/cursor.js", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("x-request-id")).toBeTruthy();
    expect(again.headers.get("content-security-policy")).toContain("default-src 'self'");
  });

  it("a missing file is the API's problem+json 404, and API paths never fall through to files", async () => {
    for (const path of ["/no-such-file.js", "/api/v1/index.html"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.headers.get("x-request-id")).toBeTruthy();
      await res.body?.cancel();
    }
  });

  it("a write to a static path is refused, never served", async () => {
    const res = await call("/index.html", { method: "POST", body: "x" });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers.get("content-type") ?? "").not.toContain("text/html");
    await res.body?.cancel();
  });
});
