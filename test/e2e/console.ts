import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect, inject } from "vitest";

/**
 * Shared browser helpers for the console's end-to-end tests (test/e2e/console-*.test.ts): mails from the
 * MailChannels stand-in, signing in through the console's own page, and axe-core checks in light, dark and at
 * 390 px wide. axe-core comes from npm (never a CDN) and is evaluated through the DevTools protocol, which the
 * page's CSP (script-src 'self') does not govern, so the page is tested with its real policy.
 */
export const baseUrl = inject("baseUrl");
export const mailUrl = inject("mailUrl");

export const DEMO = {
  admin: { email: "admin@example.com", password: "admin-demo-password" },
  member: { email: "member@example.com", password: "member-demo-password" },
};

export type Credentials = { email: string; password: string };

export type Mail = {
  api_key?: string;
  body: {
    personalizations: { to: { email: string }[] }[];
    subject: string;
    content: { type?: string; value: string }[];
  };
};

/** Waits (bounded) for a mail to that address whose subject matches; the queue consumer sends it within seconds. */
export async function mailTo(email: string, subject: RegExp, { after = 0 } = {}): Promise<Mail> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const mails = ((await (await fetch(`${mailUrl}/mails`)).json()) as Mail[]).slice(after);
    const found = mails.find((m) => m.body.personalizations[0]?.to[0]?.email === email && subject.test(m.body.subject));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail to ${email} matching ${subject}: ${JSON.stringify(mails)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many mails the stand-in holds now (to wait for a newer one with mailTo's `after`). */
export async function mailCount(): Promise<number> {
  return ((await (await fetch(`${mailUrl}/mails`)).json()) as Mail[]).length;
}

/** The console link of that path in a mail's text (the link a person clicks), e.g. `/verify-email#token=…`. */
export function linkIn(mail: Mail, path: string): string {
  const text = mail.body.content.map((c) => c.value).join("\n");
  const escaped = `${baseUrl}${path}`.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const link = text.match(new RegExp(`${escaped}#token=[\\w-]+`))?.[0];
  expect(link, `a ${path} link in:\n${text}`).toBeDefined();
  return link!;
}

export function uniqueEmail(tag: string) {
  return `e2e-${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

/** Creates a member account through the API (Bearer), for tests that need one of their own to break or lock. */
export async function registerMember(email: string, password: string) {
  const res = await fetch(`${baseUrl}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(201);
  await res.body?.cancel();
}

/** Collects the page's script errors and failed requests, so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    // A refused call (401 before a refresh, a 422 shown at a field) is logged by the browser as a failed load.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
      problems.push(message.text());
  });
  return problems;
}

/** Opens a console path and waits until the app has drawn a page (its <h1>). */
export async function open(page: Page, path: string) {
  const response = await page.goto(`${baseUrl}${path}`);
  expect(response?.status(), path).toBe(200);
  await page.locator("main h1").first().waitFor();
}

/** Signs in through the console's sign-in page, as a person does, and waits for the page it lands on. */
export async function signIn(page: Page, who: Credentials, { path = "/sign-in", landing = /\/tasks/ } = {}) {
  if (!page.url().includes("/sign-in")) await open(page, path);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(landing);
  await page.locator("main h1").first().waitFor();
}

/** A fresh context (its own cookie jar) signed in as `who`, and its page. */
export async function signedInPage(
  browser: Browser,
  who: Credentials,
  options: { colorScheme?: "light" | "dark" } = {},
) {
  const context = await browser.newContext({ colorScheme: options.colorScheme ?? "light" });
  const page = await context.newPage();
  await signIn(page, who);
  return { context, page };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

type AxeViolation = { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary: string }[] };

/** axe-core's violations on the page as it is now (WCAG 2.0–2.2 A and AA, and best practices). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== "undefined");
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      resultTypes: ["violations"],
    })) as { violations: AxeViolation[] };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

export const VIEWS = [
  { name: "light", colorScheme: "light", width: 1280, height: 800 },
  { name: "dark", colorScheme: "dark", width: 1280, height: 800 },
  { name: "390 px", colorScheme: "light", width: 390, height: 844 },
] as const;

/**
 * axe finds nothing on the page as it is now, in light, in dark and at 390 px wide (the page is re-laid out and
 * re-coloured in place: emulateMedia and the viewport change without reloading, so dialogs and typed state stay).
 */
export async function expectAccessible(page: Page, label: string) {
  const size = page.viewportSize();
  try {
    for (const view of VIEWS) {
      await page.emulateMedia({ colorScheme: view.colorScheme });
      await page.setViewportSize({ width: view.width, height: view.height });
      const violations = await axeViolations(page);
      expect(violations, `${label} (${view.name}): ${JSON.stringify(violations, null, 2)}`).toEqual([]);
      if (view.width === 390) {
        // Nothing wider than the screen: the page itself never scrolls sideways (tables scroll in their own box).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${label} at 390 px scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: "light" });
    if (size) await page.setViewportSize(size);
  }
}

/** The cookies of a context by name (to show what script can and cannot read). */
export async function cookieNames(context: BrowserContext): Promise<string[]> {
  return (await context.cookies(baseUrl)).map((c) => c.name).sort();
}
