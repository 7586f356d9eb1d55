import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { d1Cost } from "../d1-cost";
import { api, call, createUser, expectProblem } from "../helpers";

/**
 * The chain every request passes (src/middleware/edge.ts): `edge` (request id, security headers, Server-Timing,
 * X-D1-Bookmark, the log line) and `requestContext` (the settings guard, then the request's services in c.var).
 */

describe("edge: what every response carries", () => {
  it("sets a request id and security headers on every response", async () => {
    const res = await call("/health");
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("keeps a plain X-Request-Id the client sent and replaces anything else", async () => {
    expect((await call("/health/live", { headers: { "x-request-id": "abc-123" } })).headers.get("x-request-id")).toBe(
      "abc-123",
    );
    const replaced = await call("/health/live", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>");
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("requestContext: the request's D1 session (c.var.d1, c.var.db)", () => {
  it("a route that never reads D1 starts no session: zero round trips and no bookmark", async () => {
    const res = await call("/health/live");
    expect(d1Cost(res)).toEqual({ roundTrips: 0, rowsRead: 0, rowsWritten: 0 });
    expect(res.headers.get("x-d1-bookmark")).toBeNull();
  });

  it("a handler's reads are metered in Server-Timing and end with the session's bookmark", async () => {
    const user = await createUser("member");
    const res = await api("/tasks?limit=1", { token: user.token });
    expect(res.status).toBe(200);
    // One round trip: the caller check rode along with the list's read.
    expect(d1Cost(res).roundTrips).toBe(1);
    const bookmark = res.headers.get("x-d1-bookmark");
    expect(bookmark).toMatch(/^[0-9a-f]{8}-/);
    // Sent back, it is accepted: reads at least as fresh as what the client saw.
    const again = await api("/tasks?limit=1", { token: user.token, headers: { "x-d1-bookmark": bookmark! } });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-d1-bookmark")).toMatch(/^[0-9a-f]{8}-/);
  });

  it("a bookmark this service never gave out is a 400 naming the header, before any D1 work", async () => {
    const res = await api("/products", { headers: { "x-d1-bookmark": "'; DROP TABLE users; --" } });
    const problem = await expectProblem(res, 400);
    expect(problem.errors?.[0]?.path).toBe("X-D1-Bookmark");
    expect(d1Cost(res).roundTrips).toBe(0);
  });
});

describe("handlers read D1 from c.var, never from a binding", () => {
  // Source of every handler module, read at build time.
  const sources = import.meta.glob("../../src/routes/**/*.ts", { query: "?raw", import: "default", eager: true });

  it("no route module reaches the DB binding", () => {
    const offenders = Object.entries(sources)
      .filter(([, text]) => /\benv\.DB\b|getDb\(/.test(String(text)))
      .map(([path]) => path);
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });
});

describe("production safety", () => {
  it.each([
    ["missing", ""],
    ["short", "too-short"],
    ["the development default", "dev-only-secret-change-me-0123456789abcdef0123456789"],
  ])("refuses to serve with a JWT_SECRET that is %s", async (_label, secret) => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await createApp().fetch(
      new Request("http://localhost/health"),
      { ...env, ENVIRONMENT: "production", JWT_SECRET: secret },
      createExecutionContext(),
    );
    spy.mockRestore();
    const body = await expectProblem(res, 503);
    expect(body.detail).not.toContain("JWT_SECRET");
  });

  it("refuses to serve with a bad setting instead of using a default: 503, the reason only in the log", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await createApp().fetch(
      new Request("http://localhost/api/v1/products"),
      { ...env, LOGIN_MAX_FAILURES: "lots", CURSOR_FLUSH_SECONDS: "0" },
      createExecutionContext(),
    );
    const lines = logged.mock.calls.map(([line]) => JSON.parse(String(line)));
    logged.mockRestore();
    const body = await expectProblem(res, 503);
    expect(body.detail).not.toContain("LOGIN_MAX_FAILURES");
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "refusing to serve: invalid settings",
        problems: [
          'LOGIN_MAX_FAILURES is not a whole number from 1: "lots"',
          'CURSOR_FLUSH_SECONDS is not a whole number from 1 to 60: "0"',
        ],
      }),
    );
  });

  it("serves in production with a strong secret", async () => {
    const res = await createApp().fetch(
      new Request("http://localhost/health"),
      { ...env, ENVIRONMENT: "production", JWT_SECRET: "a-real-production-secret-of-more-than-32-bytes" },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
  });
});
