import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser";
import {
  baseUrl,
  cookieNames,
  DEMO,
  linkIn,
  mailCount,
  mailTo,
  open,
  registerMember,
  signedInPage,
  signIn,
  uniqueEmail,
  watchErrors,
} from "./console";

/**
 * The console's account flows in Chromium against `npm start` and the MailChannels stand-in: what a person does, by
 * clicking, from sign-up to a mail's link, and the cookie session's refusals seen from the browser.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("console accounts", () => {
  it("sign up → the unverified banner → the mail's link verifies → sign out → sign in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    const email = uniqueEmail("signup");
    const password = "sign-up password e2e";

    await open(page, "/sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(/\/sign-up$/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/tasks$/);
    const banner = page.getByRole("region", { name: "Email address not verified" });
    await expect.poll(() => banner.isVisible()).toBe(true);

    // The session is in HttpOnly cookies: script sees none of them.
    expect(await cookieNames(context)).toEqual(expect.arrayContaining(["__Host-access", "__Host-refresh"]));
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);

    // "Send again" mails a second link; the first one is superseded.
    await mailTo(email, /confirm your email/i);
    const before = await mailCount();
    await banner.getByRole("button", { name: "Send again" }).click();
    await expect.poll(() => banner.getByRole("status").textContent()).toContain("Sent");
    const mail = await mailTo(email, /confirm your email/i, { after: before });
    const link = linkIn(mail, "/verify-email");

    await page.goto(link);
    await expect
      .poll(() => page.locator("main").getByRole("status").first().textContent())
      .toContain("Your address is verified");
    // The token left the address bar and the history entry at once.
    expect(page.url()).toBe(`${baseUrl}/verify-email`);
    expect(await page.evaluate(() => location.hash)).toBe("");
    await expect.poll(() => banner.count()).toBe(0);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in$/);
    expect(await cookieNames(context)).not.toContain("__Host-access");
    await signIn(page, { email, password });
    expect(await banner.count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("forgot password → the mail's link → a new password → the old one refused, the new one signs in", async () => {
    const email = uniqueEmail("reset");
    await registerMember(email, "old password e2e");
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);

    await open(page, "/sign-in");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL(/\/forgot-password$/);
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect.poll(() => page.locator("main").getByRole("status").first().textContent()).toContain("is on its way");

    const link = linkIn(await mailTo(email, /reset your password/i), "/reset-password");
    await page.goto(link);
    await page.locator("main h1").waitFor();
    expect(page.url()).toBe(`${baseUrl}/reset-password`);
    // Two different passwords are caught before anything is sent.
    await page.getByLabel("New password", { exact: true }).fill("new password e2e");
    await page.getByLabel("Repeat the new password").fill("something else");
    await page.getByRole("button", { name: "Save the new password" }).click();
    await expect.poll(() => page.getByText("The two passwords differ.").isVisible()).toBe(true);
    await page.getByLabel("Repeat the new password").fill("new password e2e");
    await page.getByRole("button", { name: "Save the new password" }).click();
    await page.waitForURL(/\/sign-in\?notice=password-reset$/);
    await expect
      .poll(() => page.locator("main").getByRole("status").first().textContent())
      .toContain("Sign in with the new one");

    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill("old password e2e");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("main").getByRole("alert").first().textContent()).toMatch(/request id/i);
    // The API's sentence, not its HTTP title ("Unauthorized: …"), and what to do next.
    expect(await page.locator("main").getByRole("alert").first().textContent()).toMatch(
      /^Invalid email or password\. Check what you typed and try again\.Request id/,
    );
    expect(page.url()).toContain("/sign-in");

    await page.getByLabel("Password", { exact: true }).fill("new password e2e");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/tasks$/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("too many wrong passwords: the sign-in page says when to try again, and keeps what was typed", async () => {
    const email = uniqueEmail("locked");
    await registerMember(email, "right password e2e");
    const page = await browser.newPage();
    await open(page, "/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill("wrong password");
    const alert = page.locator("main").getByRole("alert").first();
    for (let attempt = 0; attempt < 8; attempt++) {
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect
        .poll(async () => (await page.getByRole("button", { name: "Sign in" }).getAttribute("aria-busy")) === "false")
        .toBe(true);
      if (/Too many attempts/.test((await alert.textContent()) ?? "")) break;
    }
    expect(await alert.textContent()).toMatch(/Too many attempts\. Try again in \d+ (seconds|minutes)\./);
    expect(await page.getByLabel("Email").inputValue()).toBe(email);
    await page.close();
  });

  it("a signed-out visit to a page goes to sign-in and, once signed in, back to that page with its filters", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${baseUrl}/tasks?status=done&ordering=title`);
    await page.waitForURL(/\/sign-in\?next=/);
    expect(new URL(page.url()).searchParams.get("next")).toBe("/tasks?status=done&ordering=title");
    await signIn(page, DEMO.member, { landing: /\/tasks\?status=done&ordering=title$/ });
    expect(await page.getByLabel("Done", { exact: true }).isChecked()).toBe(true);
    // A next= that leaves the site is ignored.
    await context.clearCookies();
    await page.goto(`${baseUrl}/sign-in?next=//evil.example/x`);
    await signIn(page, DEMO.member, { landing: /\/tasks$/ });
    await context.close();
  });

  it("an expired access cookie is renewed by the refresh cookie, once, without the person noticing", async () => {
    const { context, page } = await signedInPage(browser, DEMO.member);
    const refreshes: number[] = [];
    page.on("response", (r) => {
      if (r.url().endsWith("/api/v1/auth/session/refresh")) refreshes.push(r.status());
    });
    const refreshBefore = (await context.cookies(baseUrl)).find((c) => c.name === "__Host-refresh")?.value;
    await context.clearCookies({ name: "__Host-access" });
    await page.getByRole("link", { name: "Notifications" }).click();
    await page.waitForURL(/\/notifications$/);
    await expect.poll(() => page.locator("main h1").textContent()).toBe("Notifications");
    await expect.poll(() => refreshes).toEqual([200]);
    await page.locator("main .status-line").filter({ hasNotText: "Loading" }).waitFor();
    expect(await page.locator("main").getByRole("alert").count()).toBe(0);
    const cookies = await context.cookies(baseUrl);
    expect(cookies.map((c) => c.name)).toContain("__Host-access");
    expect(cookies.find((c) => c.name === "__Host-refresh")?.value).not.toBe(refreshBefore);
    await context.close();
  });

  it("sign out everywhere (with a confirmation) ends the session in a second browser context too", async () => {
    const email = uniqueEmail("everywhere");
    await registerMember(email, "everywhere password e2e");
    const who = { email, password: "everywhere password e2e" };
    const first = await signedInPage(browser, who);
    const second = await signedInPage(browser, who);

    await open(first.page, "/account");
    await first.page.getByRole("button", { name: "Sign out everywhere" }).click();
    const dialog = first.page.getByRole("dialog", { name: "Sign out everywhere?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
    await first.page.waitForURL(/\/sign-in$/);

    // The other context still holds its cookies, but they no longer sign anyone in: its next page asks to sign in.
    expect(await cookieNames(second.context)).toContain("__Host-refresh");
    await second.page.getByRole("link", { name: "Notifications" }).click();
    await second.page.waitForURL(/\/sign-in\?next=%2Fnotifications$/);
    await first.context.close();
    await second.context.close();
  });

  it("change password: a wrong current one is refused in words; the right one keeps this browser signed in and ends the others", async () => {
    const email = uniqueEmail("change");
    await registerMember(email, "first password e2e");
    const here = await signedInPage(browser, { email, password: "first password e2e" });
    const elsewhere = await signedInPage(browser, { email, password: "first password e2e" });
    const { page } = here;
    await open(page, "/account");
    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password").fill("second password e2e");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect
      .poll(() => page.locator("main").getByRole("alert").first().textContent())
      .toContain("The current password is wrong.");
    expect(await page.getByLabel("New password").inputValue()).toBe("second password e2e");
    await page.getByLabel("Current password").fill("first password e2e");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect
      .poll(() => page.locator("main").getByRole("status").first().textContent())
      .toContain("Password changed.");

    await page.reload();
    await page.waitForURL(/\/account$/);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    await elsewhere.page.getByRole("link", { name: "Notifications" }).click();
    await elsewhere.page.waitForURL(/\/sign-in\?next=/);
    await signIn(elsewhere.page, { email, password: "second password e2e" }, { landing: /\/notifications$/ });
    await here.context.close();
    await elsewhere.context.close();
  });

  it("the cookie is refused without the X-Console header and from another Origin (the browser's own cookie jar)", async () => {
    const { context, page } = await signedInPage(browser, DEMO.member);
    const me = `${baseUrl}/api/v1/auth/me`;
    // context.request sends this browser context's cookies, with the headers given here.
    const plain = await context.request.get(me);
    expect(plain.status()).toBe(401);
    expect(await plain.text()).toMatch(/X-Console/);
    const foreign = await context.request.post(`${baseUrl}/api/v1/auth/logout-all`, {
      headers: { "X-Console": "1", Origin: "https://evil.example" },
    });
    expect(foreign.status()).toBe(403);
    const own = await context.request.get(me, { headers: { "X-Console": "1", Origin: baseUrl } });
    expect(own.status()).toBe(200);

    // The same from a page of another origin (localhost is another site than 127.0.0.1): a fetch that would carry
    // the header is stopped by the browser (no CORS grant for it), and a form-like POST carries no session.
    const other = await context.newPage();
    const otherOrigin = baseUrl.replace("127.0.0.1", "localhost");
    await other.goto(`${otherOrigin}/capture`);
    const attempts = await other.evaluate(async (target) => {
      const withHeader = await fetch(`${target}/api/v1/auth/me`, {
        credentials: "include",
        headers: { "X-Console": "1" },
      }).then(
        (r) => `answered ${r.status}`,
        () => "blocked",
      );
      const simple = await fetch(`${target}/api/v1/auth/logout-all`, {
        method: "POST",
        credentials: "include",
        mode: "no-cors",
      }).then(
        () => "sent",
        () => "blocked",
      );
      return { withHeader, simple };
    }, baseUrl);
    expect(attempts.withHeader).toBe("blocked");
    expect(["sent", "blocked"]).toContain(attempts.simple);
    // The console's own session survived the other site's POST.
    await page.reload();
    await page.waitForURL(/\/tasks$/);
    expect((await context.request.get(me, { headers: { "X-Console": "1", Origin: baseUrl } })).status()).toBe(200);
    await context.close();
  });

  it("a member opening an admin page directly sees the 403 page that names the role, and no admin navigation", async () => {
    const { context, page } = await signedInPage(browser, DEMO.member);
    for (const path of ["/users", "/outbox", "/reports/views", "/sessions", "/products/new"]) {
      await open(page, path);
      expect(await page.locator("main h1").textContent(), path).toBe("Not allowed");
      expect(await page.locator("main").textContent(), path).toMatch(
        /needs the admin role.*signed in as max, a member/,
      );
      expect(page.url()).toBe(`${baseUrl}${path}`);
    }
    const labels = (texts: string[]) => texts.map((t) => t.replace(/\d+ unread$/, ""));
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(labels(await nav.getByRole("link").allTextContents())).toEqual(["Tasks", "Notifications", "Products"]);
    await context.close();

    const admin = await signedInPage(browser, DEMO.admin);
    const adminNav = admin.page.getByRole("navigation", { name: "Main" });
    expect(labels(await adminNav.getByRole("link").allTextContents())).toEqual(
      expect.arrayContaining(["Tasks", "Users", "Outbox", "Reports", "Live sessions"]),
    );
    await admin.context.close();
  });
});
