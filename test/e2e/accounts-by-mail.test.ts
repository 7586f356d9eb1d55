import type { Browser, Request as BrowserRequest } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser";
import { type Mail, mailTo } from "./console";
import { STAND_IN_API_KEY } from "./global-setup";

/**
 * The account flows as a user drives them against `npm start`: register, read the verification mail that reached the
 * MailChannels stand-in, verify, forget the password, read the reset mail, reset, sign in; then the console's cookie
 * sign-in in Chromium over http://127.0.0.1.
 */
const baseUrl = inject("baseUrl");

function post(path: string, json?: unknown, token?: string) {
  return fetch(`${baseUrl}/api/v1${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-client-id": "e2e-accounts",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
}

/** The token of the mail's link, the part after `#token=`, as an API client takes it (docs/accounts.md). */
const tokenOf = (mail: Mail) => {
  const token = mail.body.content[0]?.value.match(/#token=([\w-]+)/)?.[1];
  expect(token).toBeDefined();
  return token!;
};

describe("accounts end to end (npm start, MailChannels stand-in)", () => {
  it("register → verify from the mail → forgot → reset from the mail → sign in", async () => {
    const email = `e2e-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const registered = await post("/auth/register", { email, password: "first password e2e" });
    expect(registered.status).toBe(201);
    expect(registered.headers.get("cache-control")).toBe("private, no-store");
    const pair = (await registered.json()) as { access_token: string; user: { email_verified: boolean } };
    expect(pair.user.email_verified).toBe(false);

    const verification = await mailTo(email, /confirm your email/i);
    expect(verification.api_key).toBe(STAND_IN_API_KEY);
    // A link a person clicks: the console page, the token in the fragment (never sent to a server or a Referer).
    expect(verification.body.content[0]?.value).toContain(`${baseUrl}/verify-email#token=`);
    expect(verification.body.content[1]?.value).toContain(`<a href="${baseUrl}/verify-email#token=`);
    expect(verification.body.content[0]?.value).not.toMatch(/curl/);
    expect((await post("/auth/verify-email", { token: tokenOf(verification) })).status).toBe(204);
    const me = await fetch(`${baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${pair.access_token}` } });
    expect(((await me.json()) as { email_verified: boolean }).email_verified).toBe(true);

    const forgot = await post("/auth/password/forgot", { email });
    expect(forgot.status).toBe(202);
    const reset = await mailTo(email, /reset your password/i);
    expect(reset.body.content[0]?.value).toContain(`${baseUrl}/reset-password#token=`);
    expect(
      (await post("/auth/password/reset", { token: tokenOf(reset), password: "second password e2e" })).status,
    ).toBe(204);
    // The access token from before the reset is dead; the old password too; the new one signs in.
    const stale = await fetch(`${baseUrl}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(stale.status).toBe(401);
    expect((await post("/auth/login", { email, password: "first password e2e" })).status).toBe(401);
    const login = await post("/auth/login", { email, password: "second password e2e" });
    expect(login.status).toBe(200);
    const body = (await login.json()) as { device_token: string; user: { email_verified: boolean } };
    expect(body.device_token).toEqual(expect.any(String));
    expect(login.headers.get("set-cookie")).toMatch(/^device_token=.*HttpOnly/);
  });
});

describe("the console's cookie sign-in in Chromium over http://127.0.0.1 (npm start)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("keeps the __Host- Secure cookies from http://127.0.0.1 and sends them back; the rule holds for what Chromium sends", async () => {
    const email = `e2e-console-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const password = "console password e2e";
    expect((await post("/auth/register", { email, password })).status).toBe(201);

    const context = await browser.newContext();
    const page = await context.newPage();
    const sent: { method: string; url: string; headers: Record<string, string> }[] = [];
    page.on("request", async (request: BrowserRequest) => {
      if (request.url().includes("/api/v1/")) {
        sent.push({ method: request.method(), url: request.url(), headers: await request.allHeaders() });
      }
    });
    // Any page of the app's origin will do to run the console's calls from.
    expect((await page.goto(`${baseUrl}/health`))?.status()).toBe(200);
    const results = await page.evaluate(
      async ({ email, password }) => {
        const call = async (path: string, init: RequestInit = {}) => {
          const res = await fetch(`/api/v1${path}`, {
            ...init,
            headers: { "X-Console": "1", "Content-Type": "application/json", ...init.headers },
          });
          return { status: res.status, body: await res.text() };
        };
        const signIn = await call("/auth/session", { method: "POST", body: JSON.stringify({ email, password }) });
        const me = await call("/auth/me");
        const task = await call("/tasks", { method: "POST", body: JSON.stringify({ title: "from Chromium" }) });
        const withoutHeader = await fetch("/api/v1/auth/me").then((r) => r.status);
        const signOut = await call("/auth/session", { method: "DELETE" });
        const after = await call("/auth/me");
        return { signIn, me, task, withoutHeader, signOut, after, script: document.cookie };
      },
      { email, password },
    );
    expect(results.signIn.status).toBe(200);
    expect(results.signIn.body).not.toMatch(/access_token|refresh_token/);
    // Chromium kept the cookies (a secure context: http://127.0.0.1) and sent them back: /auth/me and a write work.
    expect(results.me.status).toBe(200);
    expect(JSON.parse(results.me.body).email).toBe(email);
    expect(results.task.status).toBe(201);
    // The cookie alone, without the console's header, signs nothing in.
    expect(results.withoutHeader).toBe(401);
    expect(results.signOut.status).toBe(204);
    expect(results.after.status).toBe(401);
    // HttpOnly: script never sees them.
    expect(results.script).not.toMatch(/__Host-/);

    // What Chromium really sent: no Origin on the same-origin GET, but Sec-Fetch-Site: same-origin; Origin on writes.
    const get = sent.find((r) => r.method === "GET" && r.url.endsWith("/api/v1/auth/me"))!;
    expect(get.headers.origin).toBeUndefined();
    expect(get.headers["sec-fetch-site"]).toBe("same-origin");
    expect(get.headers.cookie).toMatch(/__Host-access=/);
    const write = sent.find((r) => r.method === "POST" && r.url.endsWith("/api/v1/tasks"))!;
    expect(write.headers.origin).toBe(baseUrl);
    await context.close();
  });

  it("the cookies as Chromium stores them: __Host-, Secure, HttpOnly, SameSite=Strict, host-only, Path=/", async () => {
    const email = `e2e-jar-${crypto.randomUUID().slice(0, 8)}@example.com`;
    expect((await post("/auth/register", { email, password: "console password e2e" })).status).toBe(201);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/health`);
    const status = await page.evaluate(
      async (email) =>
        (
          await fetch("/api/v1/auth/session", {
            method: "POST",
            headers: { "X-Console": "1", "Content-Type": "application/json" },
            body: JSON.stringify({ email, password: "console password e2e" }),
          })
        ).status,
      email,
    );
    expect(status).toBe(200);
    const cookies = await context.cookies(baseUrl);
    for (const name of ["__Host-access", "__Host-refresh"]) {
      expect(cookies.find((c) => c.name === name)).toMatchObject({
        domain: "127.0.0.1",
        path: "/",
        secure: true,
        httpOnly: true,
        sameSite: "Strict",
      });
    }
    await context.close();
  });
});
