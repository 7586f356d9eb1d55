import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser";
import { DEMO, expectAccessible, open, signedInPage, watchErrors } from "./console";

/**
 * axe-core on every page this part of the console draws, in light, in dark and at 390 px wide, in the states a
 * person meets: empty forms, forms showing the server's field problems, lists with rows and a selection, an open
 * confirmation dialog, the 403 page. Also: the keyboard alone reaches the main content and moves through a page.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const FAKE_TOKEN = "#token=not-a-real-token-0123456789abcdef";

describe("accessibility (axe-core, light, dark, 390 px)", () => {
  it("the signed-out pages", async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    for (const path of ["/sign-in", "/sign-up", "/forgot-password", "/reset-password", "/verify-email", "/forbidden"]) {
      await open(page, path);
      await expectAccessible(page, path);
    }
    // With a mail's (here: a made-up) token: the reset form, and the verification's refusal in words.
    await open(page, `/reset-password${FAKE_TOKEN}`);
    await expectAccessible(page, "/reset-password with a token");
    await open(page, `/verify-email${FAKE_TOKEN}`);
    await page.getByRole("button", { name: "Try again" }).waitFor();
    await expectAccessible(page, "/verify-email refused");
    // A failed sign-in shows its banner.
    await open(page, "/sign-in");
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("main").getByRole("alert").first().waitFor();
    await expectAccessible(page, "/sign-in refused");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the member's pages: tasks (rows, selection, dialog), a task, a new task with field problems, notifications, account, 403", async () => {
    const { context, page } = await signedInPage(browser, DEMO.member);
    const errors = watchErrors(page);
    await expectAccessible(page, "/tasks");

    await page.locator("tbody input[type=checkbox]").first().check();
    await page.getByRole("region", { name: "Selected tasks" }).getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").waitFor();
    await expectAccessible(page, "/tasks with the delete dialog open");
    await page.keyboard.press("Escape");

    await page.locator("tbody a").first().click();
    await page.waitForURL(/\/tasks\/[\w-]+$/);
    await page.getByLabel("Title").waitFor();
    await expectAccessible(page, "/tasks/:id");

    await open(page, "/tasks/new");
    await page.getByRole("button", { name: "Create task" }).click();
    await page.locator("main").getByRole("alert").first().waitFor();
    await expectAccessible(page, "/tasks/new with field problems");

    for (const path of ["/notifications", "/account", "/users"]) {
      await open(page, path);
      await expectAccessible(page, path);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it("an admin's page in the shell (the full navigation)", async () => {
    const { context, page } = await signedInPage(browser, DEMO.admin, { colorScheme: "dark" });
    await open(page, "/outbox");
    await expectAccessible(page, "/outbox as admin");
    await context.close();
  });

  it("from the keyboard: the skip link reaches the content, and Tab moves through the sign-in form in order", async () => {
    const page: Page = await browser.newPage();
    await open(page, "/sign-in");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe("none");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).type)).toBe("email");
    await page.keyboard.type(DEMO.member.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(DEMO.member.password);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/tasks$/);
    // After the navigation the new page's heading has the focus.
    await page.locator("main h1").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Tasks");
    await page.close();
  });
});
