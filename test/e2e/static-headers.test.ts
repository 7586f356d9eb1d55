import { describe, expect, inject, it } from "vitest";

const baseUrl = inject("baseUrl");

/** Security headers an API answer and a static file must share (per-response ones like dates are left out). */
const SHARED = [
  "content-security-policy",
  "cross-origin-opener-policy",
  "referrer-policy",
  "x-content-type-options",
  "x-frame-options",
];

/**
 * Through `npm start` (wrangler dev with its asset router and wrangler.toml's run_worker_first), the page and its
 * files get the API's headers: a request id each, the same security headers, and no HSTS over plain HTTP.
 */
describe("static files served by wrangler dev", () => {
  it.each(["/", "/tasks?status=done", "/capture", "/assets/cursor.js", "/favicon.ico", "/vendor/uplot/uPlot.min.css"])(
    "%s carries the API's headers and a request id",
    async (path) => {
      const api = await fetch(`${baseUrl}/health`);
      await api.body?.cancel();
      const res = await fetch(`${baseUrl}${path}`);
      expect(res.status).toBe(200);
      await res.body?.cancel();
      for (const name of SHARED) expect(res.headers.get(name), name).toBe(api.headers.get(name));
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("x-request-id")).toBeTruthy();
      expect(res.headers.get("x-request-id")).not.toBe(api.headers.get("x-request-id"));
      expect(res.headers.get("strict-transport-security")).toBeNull();
    },
  );
});
