import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONSOLE_ROUTES, consoleRouteOf } from "../../src/lib/console-routes";
import { HSTS } from "../../src/middleware/edge";
import { call } from "../helpers";

/**
 * Static files (public/, the console's build included) pass through the Worker (run_worker_first = true), so they carry exactly the headers an API
 * answer carries: a request id, the same CSP and security headers, HSTS over HTTPS only.
 */
const ASSETS = [
  ["the console", "/", "text/html"],
  ["a console route with a query", "/tasks?status=todo", "text/html"],
  ["the capture page", "/capture", "text/html"],
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
    for (const path of ["/no-such-file.js", "/api/v1/index.html", "/index.html", "/api/v1/sign-in"]) {
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

/** The console's index.html as the Worker serves it for every console route. */
async function consoleHtml(path: string) {
  const res = await call(path);
  expect(res.status, path).toBe(200);
  expect(res.headers.get("content-type"), path).toContain("text/html");
  return { res, html: await res.text() };
}

describe("the console (public/console/, built by scripts/console.mjs)", () => {
  it("every console route answers the console's page, revalidated on each load", async () => {
    const { html: root } = await consoleHtml("/");
    expect(root).toContain('<div id="app">');
    for (const route of CONSOLE_ROUTES) {
      const path = route.replaceAll(/:\w+/g, "some-id");
      const { res, html } = await consoleHtml(path);
      expect(html, path).toBe(root);
      expect(res.headers.get("cache-control"), path).toBe("no-cache");
      expect(res.headers.get("content-security-policy"), path).toContain("script-src 'self'");
    }
  });

  it("its scripts load from /console/assets, cached for good (hashed names), with no inline script", async () => {
    const { html } = await consoleHtml("/sign-in");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/console\/assets\/[\w-]+\.js"/);
      expect(body?.trim()).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    const src = scripts[0]![1]!.match(/src="([^"]+)"/)![1]!;
    const script = await call(src);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("x-request-id")).toBeTruthy();
    await script.body?.cancel();
  });

  it("paths that are no console route, file or API route are a 404 problem, not the console", async () => {
    for (const path of [
      "/nope",
      "/tasks/1/2",
      "/users/x/edit",
      "/Tasks",
      "/console",
      "/console/",
      "/console/index.html",
      "/console/.vite/manifest.json",
      "/console/assets/nope.js",
      `/tasks/${"x".repeat(201)}`,
      "/tasks/%E0%A4%A",
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toContain("application/problem+json");
      await res.body?.cancel();
    }
  });

  it("a HEAD of a console route is answered like its GET, without a body", async () => {
    const res = await call("/tasks", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toBe("");
  });

  it("the route matcher: fixed segments win, parameters take one non-empty segment", () => {
    expect(consoleRouteOf("/tasks/new")).toEqual({ route: "/tasks/new", params: {} });
    expect(consoleRouteOf("/tasks/abc")).toEqual({ route: "/tasks/:id", params: { id: "abc" } });
    expect(consoleRouteOf("/products/SKU%2F1")).toEqual({ route: "/products/:sku", params: { sku: "SKU/1" } });
    expect(consoleRouteOf("/tasks//")).toBeNull();
    expect(consoleRouteOf("/")).toEqual({ route: "/", params: {} });
    // The app routes without strict trailing slashes (createRouter), so the Worker sees "/tasks/" as "/tasks".
    expect(consoleRouteOf("/tasks")).toEqual({ route: "/tasks", params: {} });
  });
});
