import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import captureHtml from "../../public/capture.html?raw";
import consoleHtml from "../../public/console/index.html?raw";
import { MAX_BODY_BYTES } from "../../src/app";
import { CONTENT_SECURITY_POLICY, HSTS } from "../../src/middleware/edge";
import { call } from "../helpers";
import { type Callers, makeCallers } from "./support";

let c: Callers;
beforeAll(async () => {
  c = await makeCallers();
});

/** The CSP header as directive → sources. */
function parseCsp(value: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (value ?? "").split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

/** What a strict policy must say: everything from this origin only, no inline or eval'd script, no plugins, no framing. */
function expectStrictCsp(value: string | null) {
  const csp = parseCsp(value);
  expect(csp.get("default-src")).toEqual(["'self'"]);
  expect(csp.get("script-src")).toEqual(["'self'"]);
  expect(csp.get("object-src")).toEqual(["'none'"]);
  expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  expect(csp.get("base-uri")).toEqual(["'self'"]);
  for (const [directive, sources] of csp) {
    for (const source of sources) {
      expect(source, `${directive} ${source}`).not.toMatch(
        /^(\*|https?:|'unsafe-eval'|'unsafe-hashes'|'strict-dynamic')$/,
      );
      if (directive !== "style-src") expect(source, directive).not.toBe("'unsafe-inline'");
    }
  }
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "SAMEORIGIN",
  "cross-origin-opener-policy": "same-origin",
};

describe("security headers on every kind of response", () => {
  const requests: [string, () => Promise<Response>][] = [
    ["health", () => call("/health")],
    ["openapi.json", () => call("/openapi.json")],
    ["docs page", () => call("/docs")],
    ["API 200", () => call("/api/v1/products")],
    ["API 201", () => call("/api/v1/cursor/sessions", { method: "POST", json: { viewport: { width: 1, height: 1 } } })],
    ["API 401", () => call("/api/v1/auth/me")],
    ["API 403", () => call("/api/v1/users", { token: c.member.token })],
    ["API 404", () => call("/api/v1/nothing")],
    ["404 outside the API", () => call("/health/nothing")],
    ["405 outside the API", () => call("/health", { method: "PATCH" })],
    ["API 405", () => call("/api/v1/tasks", { method: "PATCH", token: c.member.token })],
    [
      "API 400 bad JSON",
      () => call("/api/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
    ],
    [
      "API 413",
      () =>
        call("/api/v1/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "x".repeat(MAX_BODY_BYTES + 1),
        }),
    ],
    [
      "API 415",
      () => call("/api/v1/auth/login", { method: "POST", headers: { "content-type": "text/plain" }, body: "a" }),
    ],
    ["API 422", () => call("/api/v1/tasks", { method: "POST", token: c.member.token, json: {} })],
    ["API 426", () => call(`/api/v1/cursor/sessions/${crypto.randomUUID()}/live`)],
  ];
  for (const [name, send] of requests) {
    it(`${name}: nosniff, referrer policy, framing, CSP`, async () => {
      const res = await send();
      for (const [header, value] of Object.entries(SECURITY_HEADERS))
        expect(res.headers.get(header), header).toBe(value);
      expectStrictCsp(res.headers.get("content-security-policy"));
      expect(res.headers.get("x-request-id")).toBeTruthy();
      await res.body?.cancel();
    });
  }
});

describe("a strict CSP that the page and the docs can live with", () => {
  it("the Worker's policy is strict", () => {
    const rendered = Object.entries(CONTENT_SECURITY_POLICY)
      .map(([k, v]) => `${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} ${v.join(" ")}`)
      .join("; ");
    expectStrictCsp(rendered);
  });

  it("the static pages get the same policy as the Worker (they are served through it)", async () => {
    const fromPage = parseCsp((await call("/capture")).headers.get("content-security-policy"));
    expect(Object.fromEntries(parseCsp((await call("/")).headers.get("content-security-policy")))).toEqual(
      Object.fromEntries(fromPage),
    );
    const fromWorker = parseCsp((await call("/health")).headers.get("content-security-policy"));
    expect(Object.fromEntries(fromPage)).toEqual(Object.fromEntries(fromWorker));
  });

  it("the pages and the docs load only same-origin files and have no inline script or handler", async () => {
    const docs = await (await call("/docs")).text();
    for (const html of [captureHtml, consoleHtml, docs]) {
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/\bsrc="\/(vendor|assets|console\/assets)\//);
        expect(body?.trim()).toBe("");
      }
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    }
  });
});

describe("HSTS only over HTTPS", () => {
  it("is absent on plain HTTP and present on HTTPS", async () => {
    const plain = await call("/health");
    expect(plain.headers.get("strict-transport-security")).toBeNull();
    const secure = await exports.default.fetch(new Request("https://backoffice.example/health"));
    // At least 10^6 seconds (about 12 days): long enough to matter, and it covers subdomains.
    expect(secure.headers.get("strict-transport-security")).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    // Also on an error answer over HTTPS.
    const problem = await exports.default.fetch(new Request("https://backoffice.example/api/v1/auth/me"));
    expect(problem.status).toBe(401);
    expect(problem.headers.get("strict-transport-security")).toBe(HSTS);
  });
});

describe("CORS only for allowed origins", () => {
  const ALLOWED = "http://localhost:8787";
  for (const origin of [
    "https://evil.example",
    "null",
    "http://localhost:8787.evil.example",
    "http://LOCALHOST:8787",
  ]) {
    it(`refuses ${origin}`, async () => {
      const preflight = await call("/api/v1/tasks", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      const simple = await call("/api/v1/products", { headers: { origin } });
      expect(simple.headers.get("access-control-allow-origin")).toBeNull();
      expect(simple.headers.get("access-control-allow-credentials")).toBeNull();
    });
  }

  it(`allows ${ALLOWED}, echoing it (never *) and varying on Origin`, async () => {
    const preflight = await call("/api/v1/tasks", {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const simple = await call("/api/v1/products", { headers: { origin: ALLOWED } });
    expect(simple.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(simple.headers.get("vary")?.toLowerCase()).toContain("origin");
    // Error answers carry it too, so the page can read the problem.
    const problem = await call("/api/v1/auth/me", { headers: { origin: ALLOWED } });
    expect(problem.status).toBe(401);
    expect(problem.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  it("no CORS outside the API", async () => {
    const res = await call("/openapi.json", { headers: { origin: ALLOWED } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});
