import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser";

const baseUrl = inject("baseUrl");
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("docs and OpenAPI, served by wrangler dev as npm start runs it", () => {
  it("renders Swagger UI in Chromium with every asset from the Worker itself and no CSP violation", async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on("request", (req) => requested.push(req.url()));
    page.on("console", (msg) => {
      // A failed load is reported with its URL by the response listener below.
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) problems.push(msg.text());
    });
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`${baseUrl}/docs`);
    await page.getByText("edge-backoffice API").first().waitFor({ timeout: 20_000 });
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    expect(requested.length).toBeGreaterThan(2);
    expect(requested.filter((url) => !url.startsWith(baseUrl))).toEqual([]);
    expect(requested).toContain(`${baseUrl}/openapi.json`);
    expect(problems).toEqual([]);
    // "Authorize" exists because the bearer security scheme is declared.
    expect(await page.locator("button.authorize").count()).toBe(1);
    await page.close();
  });

  it("serves an OpenAPI 3.1 document that Redocly lints clean", async () => {
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    const file = join(mkdtempSync(join(tmpdir(), "openapi-")), "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const { stdout, stderr } = await promisify(execFile)(
      "npx",
      ["redocly", "lint", file, "--config", join(process.cwd(), "redocly.yaml"), "--format", "json"],
      { env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } },
    ).catch((error: { stdout: string; stderr: string }) => error);
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect(report.problems, stderr).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });
});
