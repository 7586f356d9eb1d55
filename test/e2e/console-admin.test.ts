import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser";
import {
  baseUrl,
  DEMO,
  expectAccessible,
  open,
  registerMember,
  signedInPage,
  uniqueEmail,
  watchErrors,
} from "./console";

/**
 * The admin side of the console in Chromium against `npm start`: a product created and edited, its history and views
 * chart; the views report; a user created and given another role, and what the API forbids shown disabled with its
 * reason; the outbox read; a live session watched while another page moves the pointer on /capture, its stats and
 * its archive; CSV exports that keep the list's filters; axe on every page in light, dark and at 390 px.
 */
const SUPERUSER = { email: "superuser@example.com", password: "superuser-demo-password" };
const tag = crypto.randomUUID().slice(0, 6);

let browser: Browser;
let admin: { context: BrowserContext; page: Page };
let errors: string[];

beforeAll(async () => {
  browser = await launchBrowser();
  admin = await signedInPage(browser, DEMO.admin);
  errors = watchErrors(admin.page);
});
afterAll(async () => {
  await browser?.close();
});

/** An access token for comparing what the console shows with what the API answers (a Bearer client). */
async function bearer(who: { email: string; password: string }) {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-client-id": "e2e-console-admin" },
    body: JSON.stringify(who),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function apiGet<T>(path: string, token?: string): Promise<T> {
  const res = await fetch(`${baseUrl}/api/v1${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** A strict reader for the downloaded CSV (quoted fields may hold commas, quotes and line breaks). */
function csvRows(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 1;
    } else field += ch;
  }
  const [header, ...rows] = records;
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i]!])));
}

async function downloaded(download: Download): Promise<string> {
  return readFile((await download.path())!, "utf8");
}

/** Polls (bounded) until `check` stops throwing: background work (queues) lands within seconds. */
async function eventually(check: () => Promise<void>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

describe("catalog", () => {
  let sku = "";
  const name = `Console lamp ${tag}`;

  it("an admin creates a product, edits it, and sees its history and its views chart", async () => {
    const { page } = admin;
    await open(page, "/products");
    await page.getByRole("link", { name: "New product" }).click();
    await page.waitForURL(/\/products\/new$/);
    // The server's problems show at their fields.
    await page.getByRole("button", { name: "Create product" }).click();
    await page.locator("main").getByRole("alert").first().waitFor();
    await expect.poll(() => page.locator(".field-invalid").count()).toBeGreaterThanOrEqual(2);
    await expectAccessible(page, "/products/new with field problems");

    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Brand").fill(`Brand ${tag}`);
    await page.getByLabel("Price").fill("19.99");
    await page.getByRole("button", { name: "Create product" }).click();
    await page.waitForURL(/\/products\/[0-9a-f-]{36}$/);
    sku = page.url().split("/").at(-1)!;
    await page.getByRole("heading", { level: 1, name }).waitFor();

    await page.getByLabel("Price").fill("17.50");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. The other admins are told by mail.").waitFor();
    const history = page.getByRole("region", { name: "Change history", exact: true });
    const change = history.getByRole("row").filter({ has: page.getByRole("cell", { name: "Changed", exact: true }) });
    await change.waitFor();
    await expect.poll(() => change.textContent()).toMatch(/ada[\s\S]*price: 19\.99\s*→\s*changed to\s*17\.50/);
    await history
      .getByRole("row")
      .filter({ has: page.getByRole("cell", { name: "Created", exact: true }) })
      .waitFor();

    // Anonymous reads count as views (through the queue); the chart and its table show them.
    for (let i = 0; i < 3; i += 1) await (await fetch(`${baseUrl}/api/v1/products/${sku}`)).body?.cancel();
    const views = page.getByRole("region", { name: "Views per day", exact: true });
    await eventually(async () => {
      await page.reload();
      await views.getByRole("status").filter({ hasText: "anonymous views" }).waitFor({ timeout: 5_000 });
      expect(await views.getByRole("status").textContent()).toMatch(/^3 anonymous views/);
    }, "three views counted");
    // The chart is drawn after the figures arrive (an effect after the render): wait for its canvas.
    await views.locator(".plot canvas").first().waitFor();
    await views.getByText("The figures as a table").click();
    const today = new Date().toISOString().slice(0, 10);
    expect(await views.getByRole("row").filter({ hasText: today }).locator("td.num").textContent()).toBe("3");
    await expectAccessible(page, "/products/:sku as admin");
  });

  it("a member reads the product without the admin's forms, and opening /products/new is the 403 page", async () => {
    const member = await signedInPage(browser, DEMO.member);
    await open(member.page, `/products/${sku}`);
    await member.page.getByText("Only admins may change products.").waitFor();
    expect(await member.page.getByRole("button", { name: "Save" }).count()).toBe(0);
    await expectAccessible(member.page, "/products/:sku as member");
    await open(member.page, "/products/new");
    await member.page.getByRole("heading", { name: "Not allowed" }).waitFor();
    expect(await member.page.locator("main").textContent()).toMatch(/needs the admin role/);
    await member.context.close();
  });

  it("the list filters by brand and name, in the URL, and exports exactly the filtered rows as CSV", async () => {
    const { page } = admin;
    await open(page, "/products");
    await page.getByRole("searchbox", { name: "Brand" }).fill(`Brand ${tag}`);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/brand=Brand/);
    await page.getByRole("link", { name }).waitFor();
    await page.reload();
    await page.getByRole("link", { name }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await expectAccessible(page, "/products filtered");
    // From the product and back: the list keeps its filter (the link names the list, not a bare path).
    const filtered = new URL(page.url()).search;
    await page.getByRole("link", { name }).click();
    await page.waitForURL(/\/products\/[0-9a-f-]{36}$/);
    await page.getByRole("link", { name: "Back to the products" }).click();
    await page.waitForURL((url) => url.pathname === "/products" && url.search === filtered);
    expect(await page.getByRole("searchbox", { name: "Brand" }).inputValue()).toBe(`Brand ${tag}`);

    await open(page, "/products?brand=Lumo&ordering=-price");
    const [file] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(file.suggestedFilename()).toMatch(/^products-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = csvRows(await downloaded(file));
    const listed = await apiGet<{ items: { sku: string; brand: string }[] }>(
      "/products?brand=Lumo&ordering=-price&limit=100",
    );
    expect(rows.map((r) => r.sku)).toEqual(listed.items.map((p) => p.sku));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.brand === "Lumo")).toBe(true);
    await page
      .locator(".export-progress")
      .filter({ hasText: /^Saved products-.* rows?\.$/ })
      .waitFor();
  });

  it("the views report draws a chart and a table", async () => {
    const { page } = admin;
    await open(page, "/reports/views");
    await page.getByRole("link", { name }).waitFor();
    await page.locator(".plot canvas").first().waitFor();
    // The lines are named under the chart, also when the report holds one product.
    expect(await page.locator("figure.chart .legend").textContent()).toContain(name);
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name }) });
    expect(await row.locator("td.num").nth(1).textContent()).toBe("3");
    await expectAccessible(page, "/reports/views");
  });
});

describe("tasks export", () => {
  it("a member exports the filtered task wall; the file holds exactly the rows the filter shows", async () => {
    const who = { email: uniqueEmail("export"), password: "export password e2e" };
    await registerMember(who.email, who.password);
    const token = await bearer(who);
    for (const [title, status] of [
      [`=cmd export ${tag}`, "todo"],
      [`Plain, "quoted" export ${tag}`, "todo"],
      [`Done export ${tag}`, "done"],
    ]) {
      const res = await fetch(`${baseUrl}/api/v1/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ title, status }),
      });
      expect(res.status).toBe(201);
    }
    const member = await signedInPage(browser, who);
    await open(member.page, `/tasks?q=export+${tag}&status=todo`);
    await member.page.locator("tbody tr").first().waitFor();
    const [file] = await Promise.all([
      member.page.waitForEvent("download"),
      member.page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(file.suggestedFilename()).toMatch(/^tasks-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = csvRows(await downloaded(file));
    const listed = await apiGet<{ items: { id: string }[] }>(`/tasks?q=export+${tag}&status=todo&limit=100`, token);
    expect(rows.map((r) => r.id)).toEqual(listed.items.map((t) => t.id));
    expect(rows.map((r) => r.title).sort()).toEqual([`'=cmd export ${tag}`, `Plain, "quoted" export ${tag}`]);
    expect(rows.every((r) => r.status === "todo")).toBe(true);
    await member.context.close();
  });
});

describe("users", () => {
  it("the superuser creates a user and changes their role; an admin sees why they may not", async () => {
    const root = await signedInPage(browser, SUPERUSER);
    const { page } = root;
    const email = uniqueEmail("role");
    const username = `role-${tag}`;
    await open(page, "/users");
    await page.getByRole("link", { name: "New user" }).click();
    await page.waitForURL(/\/users\/new$/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill("a long enough password");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.waitForURL(/\/users\/[0-9a-f-]{36}$/);
    const userUrl = new URL(page.url()).pathname;
    await page.getByRole("heading", { level: 1, name: username }).waitFor();

    await page.getByRole("combobox", { name: "Role" }).selectOption("admin");
    await page.getByRole("button", { name: "Change role" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await expectAccessible(page, "/users/:id with the role dialog open");
    await dialog.getByRole("button", { name: "Change role" }).click();
    await page.getByText("Role changed to admin.").waitFor();
    const token = await bearer(SUPERUSER);
    const users = await apiGet<{ items: { email: string; role: string }[] }>(
      `/users?search=${encodeURIComponent(email)}`,
      token,
    );
    expect(users.items).toMatchObject([{ email, role: "admin" }]);
    await root.context.close();

    // The demo admin may not change another admin, nor the superuser: shown disabled, with the API's reason.
    const { page: adminPage } = admin;
    await open(adminPage, userUrl);
    await adminPage.getByText("Only the superuser can change or delete an admin.").first().waitFor();
    expect(await adminPage.getByRole("textbox", { name: "Email" }).isDisabled()).toBe(true);
    expect(await adminPage.getByRole("button", { name: `Delete ${username}` }).getAttribute("aria-disabled")).toBe(
      "true",
    );
    await expectAccessible(adminPage, "/users/:id of another admin");
    await open(adminPage, "/users?role=superuser");
    await adminPage.locator("tbody a").first().click();
    await adminPage.getByText("The superuser can be neither changed nor deleted through the API.").first().waitFor();
    // A member: the admin may change them, but not make them an admin.
    await open(adminPage, "/users/new");
    expect(await adminPage.getByRole("option", { name: "Admin" }).isDisabled()).toBe(true);
    await adminPage.getByText("Only the superuser can create admins.").waitFor();
    await expectAccessible(adminPage, "/users/new as admin");
    await open(adminPage, "/users");
    await expectAccessible(adminPage, "/users");
  });
});

describe("mail outbox", () => {
  it("lists mails with their status in words, and opens one", async () => {
    const { page } = admin;
    await open(page, "/outbox?kind=product.changed");
    const row = page
      .getByRole("row")
      .filter({ hasText: `Console lamp ${tag}` })
      .first();
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Sent|Queued|Retrying|Recorded|Suppressed/);
    await expectAccessible(page, "/outbox");
    await row.getByRole("link").click();
    await page.waitForURL(/\/outbox\/[0-9a-f-]{36}$/);
    await page.getByRole("heading", { name: "Delivery" }).waitFor();
    expect(await page.locator("main").textContent()).toContain(`Console lamp ${tag}`);
    await expectAccessible(page, "/outbox/:id");
    // "Back to the outbox" returns to the list as it was left, filter included, as the browser's back does.
    await page.getByRole("link", { name: "Back to the outbox" }).click();
    await page.waitForURL((url) => url.pathname === "/outbox" && url.searchParams.get("kind") === "product.changed");
    expect(await page.getByLabel("Kind").inputValue()).toBe("product.changed");
    await row.getByRole("link").click();
    await page.waitForURL(/\/outbox\/[0-9a-f-]{36}$/);
    await page.goBack();
    await page.waitForURL(/\/outbox\?kind=product\.changed$/);
    await row.waitFor();
  });
});

describe("live sessions", () => {
  it("an admin watches a session live while another page moves the pointer on /capture", async () => {
    const capture = await browser.newPage();
    await capture.goto(`${baseUrl}/capture`);
    await expect.poll(() => capture.locator("#session-id").getAttribute("title")).toMatch(/^[0-9a-f-]{36}$/);
    const id = (await capture.locator("#session-id").getAttribute("title"))!;

    const { page } = admin;
    await open(page, "/sessions");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: new RegExp(id.slice(0, 8)) }) });
    await row.waitFor();
    expect(await row.textContent()).toContain("Live");
    await expectAccessible(page, "/sessions");
    await row.getByRole("link").click();
    await page.waitForURL(new RegExp(`/sessions/${id}$`));
    const live = page.getByRole("region", { name: "Live", exact: true });
    await live
      .getByRole("status")
      .filter({ hasText: /^Live$/ })
      .waitFor();
    // Before the pointer moves, the empty charts say what they wait for; the first frame takes the words away.
    const waiting = live.getByText(/^Waiting for the pointer to move/);
    expect(await waiting.isVisible()).toBe(true);

    // Move the pointer on the capture page, a few hundred pixels, one frame at a time.
    for (let i = 0; i < 40; i += 1) {
      await capture.mouse.move(100 + i * 10, 100 + (i % 2) * 40);
      await capture.waitForTimeout(20);
    }
    const events = live.getByTestId("live-events");
    await expect
      .poll(async () => Number(await events.getAttribute("data-value")), { timeout: 15_000 })
      .toBeGreaterThan(10);
    expect(await waiting.count()).toBe(0);
    await live.locator(".plot canvas").nth(1).waitFor();
    await expectAccessible(page, "/sessions/:id live");

    // The stats by bucket, then end the session and download its archive.
    const stats = page.getByRole("region", { name: "Statistics", exact: true });
    await eventually(async () => {
      await stats.getByRole("button", { name: "Refresh" }).click();
      expect(await stats.locator("tbody tr").count()).toBeGreaterThan(0);
    }, "stats rows");
    await page.getByRole("button", { name: "End session" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "End session" }).click();
    await page.getByRole("region", { name: "Session", exact: true }).getByText("Ended").waitFor();
    await eventually(async () => {
      const [file] = await Promise.all([
        page.waitForEvent("download", { timeout: 3_000 }),
        page.getByRole("button", { name: "Download archive" }).click(),
      ]);
      expect(file.suggestedFilename()).toBe(`${id}.ndjson.gz`);
    }, "the archive");
    await capture.close();
    expect(errors).toEqual([]);
  });
});
