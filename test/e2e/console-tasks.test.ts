import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser";
import { baseUrl, open, registerMember, signedInPage, uniqueEmail, watchErrors } from "./console";

/**
 * The task wall as a member drives it in Chromium against `npm start`: create (with the server's field problems at
 * the field), edit, select several and mark them done, delete them after a confirmation that names the count, a
 * filtered URL that survives reload and back/forward, notifications with their unread count, and a network failure
 * that keeps what was typed. The member is a fresh account, so the wall's contents are this test's own.
 */
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
const tag = crypto.randomUUID().slice(0, 6);

const member = { email: uniqueEmail("tasks"), password: "task wall password e2e" };

beforeAll(async () => {
  browser = await launchBrowser();
  await registerMember(member.email, member.password);
  ({ context, page } = await signedInPage(browser, member));
  errors = watchErrors(page);
});
afterAll(async () => {
  await browser?.close();
});

/** Creates a task through the list's "New task" form; back on the unfiltered list, its row shows. */
async function createTask(title: string, expires?: string) {
  await open(page, "/tasks");
  await page.getByRole("link", { name: "New task" }).click();
  await page.waitForURL(/\/tasks\/new$/);
  await page.getByLabel("Title").fill(title);
  if (expires) await page.getByLabel("Expires").fill(expires);
  await page.getByRole("button", { name: "Create task" }).click();
  await page.waitForURL(/\/tasks$/);
  await rowOf(title).waitFor();
}

/** The member's access token (Bearer, like any API client) for seeding many tasks at once. */
async function bearer(email: string, password: string) {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-client-id": "e2e-console-tasks" },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const rowOf = (title: string) =>
  page.getByRole("row").filter({ has: page.getByRole("link", { name: title, exact: true }) });

/** A datetime-local value `minutes` from now, in the browser's zone (the test runs in the same zone). */
function localInput(minutes: number) {
  const date = new Date(Date.now() + minutes * 60_000);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

describe("the task wall", () => {
  it("create: the server's problem shown at its field, then created; edit; expiry relative", async () => {
    await open(page, "/tasks/new");
    await page.getByLabel("Title").fill("   ");
    await page.getByRole("button", { name: "Create task" }).click();
    const title = page.getByLabel("Title");
    await expect.poll(() => title.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await title.getAttribute("aria-describedby")) ?? "";
    const message = await page.locator(`[id="${describedBy.split(" ").at(-1)}"]`).textContent();
    // The schema's own words ("Too small: expected string to have >=1 characters") are put in a person's words.
    expect(message).toBe("Required.");
    expect(await page.locator("main").getByRole("alert").first().textContent()).toContain(
      "Please correct the fields marked below.",
    );

    await title.fill(`Order paper ${tag}`);
    await page.getByLabel("Expires").fill(localInput(12));
    await page.getByRole("button", { name: "Create task" }).click();
    await page.waitForURL(/\/tasks$/);
    const row = rowOf(`Order paper ${tag}`);
    await row.waitFor();
    expect(await row.locator("time").textContent()).toMatch(/in 1[12] min/);

    await row.getByRole("link").click();
    await page.waitForURL(/\/tasks\/[\w-]+$/);
    // The new page's heading takes the focus once the page is drawn (its code and the task may still be loading at
    // first: the loading frame's heading hands the focus on to the form's).
    await expect
      .poll(() => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`))
      .toBe("H1 Edit task");
    await page.getByLabel("Title").fill(`Order more paper ${tag}`);
    await page.getByLabel("Description").fill("Two boxes.");
    await page.getByLabel("Status").selectOption("in_progress");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("main").getByRole("status").first().textContent()).toContain("Saved.");
    await page.getByRole("link", { name: "Back to the tasks" }).click();
    const edited = rowOf(`Order more paper ${tag}`);
    await edited.waitFor();
    expect(await edited.textContent()).toContain("In progress");
  });

  it("an expired task is marked, and its notice shows as unread in the navigation until marked read", async () => {
    await createTask(`Renew domain ${tag}`, localInput(-5));
    const row = rowOf(`Renew domain ${tag}`);
    expect(await row.textContent()).toContain("Expired");
    expect(await row.getAttribute("class")).toContain("expired");

    const nav = page.getByRole("navigation", { name: "Main" });
    const notifications = nav.getByRole("link", { name: /Notifications/ });
    await expect.poll(() => notifications.textContent()).toMatch(/Notifications\s*1 unread/);
    await notifications.click();
    await page.waitForURL(/\/notifications$/);
    const notice = page.getByRole("listitem").filter({ hasText: `Renew domain ${tag}` });
    await notice.waitFor();
    await notice.getByRole("button", { name: /Mark read/ }).click();
    await expect.poll(() => notice.getByRole("button").count()).toBe(0);
    await expect.poll(() => notifications.textContent()).toBe("Notifications");
  });

  it("select several, mark them done and then delete them, each after a confirmation that names the count", async () => {
    const titles = [1, 2, 3].map((n) => `Bulk ${n} ${tag}`);
    for (const title of titles) await createTask(title);
    await open(page, `/tasks?q=${encodeURIComponent(`Bulk`)}`);
    for (const title of titles) await rowOf(title).getByRole("checkbox").check();
    const bulk = page.getByRole("region", { name: "Selected tasks" });
    expect(await bulk.textContent()).toContain("3 tasks selected");
    await bulk.getByLabel("Mark as").selectOption("done");
    await bulk.getByRole("button", { name: "Apply" }).click();
    const confirm = page.getByRole("dialog", { name: "Mark 3 tasks as done?" });
    await confirm.waitFor();
    // The dialog holds the focus, starting on the safe choice; Escape backs out and gives the focus back.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Apply");
    await bulk.getByRole("button", { name: "Apply" }).click();
    await confirm.getByRole("button", { name: "Mark 3 tasks" }).click();
    await expect
      .poll(() => page.locator("main").getByRole("status").first().textContent())
      .toContain("Marked 3 tasks as done.");
    for (const title of titles) expect(await rowOf(title).textContent()).toContain("Done");

    for (const title of titles) await rowOf(title).getByRole("checkbox").check();
    await bulk.getByRole("button", { name: "Delete" }).click();
    const remove = page.getByRole("dialog", { name: "Delete 3 tasks?" });
    await remove.getByRole("button", { name: "Delete 3 tasks" }).click();
    await expect
      .poll(() => page.locator("main").getByRole("status").first().textContent())
      .toContain("Deleted 3 tasks.");
    for (const title of titles) expect(await rowOf(title).count()).toBe(0);
  });

  it("a bulk delete that includes someone else's task is refused whole, and the dialog names that task", async () => {
    await createTask(`Quarterly mine ${tag}`);
    await open(page, "/tasks?q=quarterly");
    await rowOf(`Quarterly mine ${tag}`).getByRole("checkbox").check();
    await rowOf("Prepare the quarterly report").getByRole("checkbox").check();
    await page.getByRole("region", { name: "Selected tasks" }).getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete 2 tasks?" });
    await dialog.getByRole("button", { name: "Delete 2 tasks" }).click();
    const alert = dialog.getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toContain("1 of the 2 tasks cannot be deleted by you; nothing was changed.");
    expect(await alert.textContent()).toContain(
      "“Prepare the quarterly report”: only its creator or an admin may do this",
    );
    expect(await alert.textContent()).toMatch(/Request id [\w-]+/);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.reload();
    await rowOf(`Quarterly mine ${tag}`).waitFor();
    expect(await rowOf("Prepare the quarterly report").count()).toBe(1);
  });

  it("filters, ordering and paging live in the URL: a reload, back and forward and a shared link keep them", async () => {
    for (const n of [1, 2, 3]) await createTask(`Filter ${n} ${tag}`);
    await open(page, "/tasks");
    await page.getByLabel("Title contains").fill(`Filter`);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=Filter/);
    await page.getByLabel("To do", { exact: true }).check();
    await page.waitForURL(/status=todo/);
    await page.getByLabel("Order", { exact: true }).selectOption("title");
    await page.waitForURL(/ordering=title/);
    const titles = () => page.locator("tbody tr a").allTextContents();
    await expect.poll(titles).toEqual([1, 2, 3].map((n) => `Filter ${n} ${tag}`));

    const shared = page.url();
    await page.reload();
    await page.locator("main h1").waitFor();
    await expect.poll(titles).toEqual([1, 2, 3].map((n) => `Filter ${n} ${tag}`));
    expect(await page.getByLabel("Title contains").inputValue()).toBe("Filter");
    expect(await page.getByLabel("To do", { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel("Order", { exact: true }).inputValue()).toBe("title");

    await page.goBack(); // before the ordering
    await page.waitForURL((url) => !url.search.includes("ordering"));
    expect(await page.getByLabel("Order", { exact: true }).inputValue()).toBe("-created_at");
    await page.goForward();
    await page.waitForURL(/ordering=title/);
    await expect.poll(titles).toEqual([1, 2, 3].map((n) => `Filter ${n} ${tag}`));

    // Another person opening the link sees the same list (the admin sees every task, these three included).
    const admin = await signedInPage(browser, { email: "admin@example.com", password: "admin-demo-password" });
    await admin.page.goto(shared);
    await admin.page.locator("main h1").waitFor();
    await expect
      .poll(() => admin.page.locator("tbody tr a").allTextContents())
      .toEqual([1, 2, 3].map((n) => `Filter ${n} ${tag}`));
    await admin.context.close();
  });

  it("paging on the server: next and previous pages keep the filters and the ordering", async () => {
    const token = await bearer(member.email, member.password);
    for (let n = 1; n <= 21; n++) {
      const res = await fetch(`${baseUrl}/api/v1/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ title: `Page ${String(n).padStart(2, "0")} ${tag}` }),
      });
      expect(res.status).toBe(201);
      await res.body?.cancel();
    }
    await open(page, `/tasks?q=${encodeURIComponent(`Page `)}&ordering=title`);
    const pager = page.getByRole("navigation", { name: "Task list pages" });
    const rows = () => page.locator("tbody tr a").allTextContents();
    await expect.poll(() => pager.textContent()).toContain("1–20 of 21");
    expect((await rows())[0]).toBe(`Page 01 ${tag}`);
    await pager.getByRole("link", { name: "Next page" }).click();
    await page.waitForURL(/offset=20/);
    expect(new URL(page.url()).searchParams.get("ordering")).toBe("title");
    await expect.poll(rows).toEqual([`Page 21 ${tag}`]);
    expect(await pager.textContent()).toContain("21–21 of 21");
    await pager.getByRole("link", { name: "Previous page" }).click();
    await page.waitForURL((url) => !url.search.includes("offset"));
    await expect.poll(async () => (await rows()).length).toBe(20);
  });

  it("a network failure keeps what was typed, and the same form then saves", async () => {
    await open(page, "/tasks/new");
    await page.getByLabel("Title").fill(`Offline ${tag}`);
    await page.getByLabel("Description").fill("typed while offline");
    await context.setOffline(true);
    await page.getByRole("button", { name: "Create task" }).click();
    await expect
      .poll(() => page.locator("main").getByRole("alert").first().textContent())
      .toContain("could not be reached");
    expect(await page.getByLabel("Title").inputValue()).toBe(`Offline ${tag}`);
    expect(await page.getByLabel("Description").inputValue()).toBe("typed while offline");
    await context.setOffline(false);
    await page.getByRole("button", { name: "Create task" }).click();
    await page.waitForURL(/\/tasks$/);
    await rowOf(`Offline ${tag}`).waitFor();
  });

  it("a list the server could not be asked for says so, and 'Try again' reads it again", async () => {
    await createTask(`Unreachable ${tag}`);
    const list = "**/api/v1/tasks?**";
    await page.route(list, (route) => route.abort("connectionrefused"));
    await open(page, "/tasks");
    const alert = page.locator("main").getByRole("alert");
    // A failed read is no form: nothing typed to keep, and the way on is to read it again.
    await expect.poll(() => alert.textContent()).toContain("could not be reached, so this could not be shown");
    expect(await alert.textContent()).not.toContain("what you typed");
    expect(await page.locator("main .empty").count()).toBe(0);
    await page.unroute(list);
    await alert.getByRole("button", { name: "Try again" }).click();
    await rowOf(`Unreachable ${tag}`).waitFor();
    expect(await alert.count()).toBe(0);
  });

  it("a list with nothing to show says why and how to get back; a task that is gone says what to do", async () => {
    await open(page, `/tasks?q=${encodeURIComponent(`nothing like this ${tag}`)}&ordering=title`);
    const empty = page.locator("main .empty");
    await expect.poll(() => empty.textContent()).toBe("No tasks match these filters. Clear the filters");
    // No "0–0 of 0" pager, and nothing to select.
    expect(await page.getByRole("navigation", { name: "Task list pages" }).count()).toBe(0);
    expect(await page.getByLabel("Select every task on this page").isDisabled()).toBe(true);
    await empty.getByRole("link", { name: "Clear the filters" }).click();
    await page.waitForURL(/\/tasks$/);
    await expect.poll(() => page.locator("tbody tr").count()).toBeGreaterThan(0);

    await open(page, `/tasks/${crypto.randomUUID()}`);
    const alert = page.locator("main").getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toMatch(/^No task with id [\w-]+\. It may have been deleted, or the link is wrong\./);
    // The HTTP title ("Not Found") is not what a person reads; the request id to quote is there.
    expect(await alert.textContent()).not.toContain("Not Found");
    expect(await alert.textContent()).toMatch(/Request id [\w-]+/);
    await page.getByRole("link", { name: "Back to the tasks" }).click();
    await page.waitForURL(/\/tasks$/);
  });

  it("no script error on the way", () => {
    expect(errors).toEqual([]);
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
