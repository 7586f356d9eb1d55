import type { Browser, Page, WebSocketRoute } from "playwright-core";
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

type Session = { id: string; token: string };

/** Opens the page and returns the session it created (read from its own POST /cursor/sessions answer). */
async function openPage(page: Page, problems: string[]): Promise<Session> {
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  const created = page.waitForResponse((r) => r.url().endsWith("/api/v1/cursor/sessions") && r.status() === 201);
  const res = await page.goto(`${baseUrl}/capture`);
  expect(res?.status()).toBe(200);
  // The static page passes through the Worker (run_worker_first = true), so it carries the API's CSP.
  expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
  expect(res?.headers()["x-content-type-options"]).toBe("nosniff");
  const session = (await (await created).json()) as Session;
  await page.waitForFunction(() => document.body.dataset.state === "live", null, { timeout: 20_000 });
  return session;
}

const figure = (page: Page, id: string) =>
  page.evaluate((id) => Number(document.getElementById(id)!.dataset.value), id);

/** Moves along straight lines, resting at each corner so a frame samples it. Returns the path length. */
async function trace(page: Page, points: [number, number][]) {
  let length = 0;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    length += Math.hypot(x1 - x0, y1 - y0);
    await page.mouse.move(x1, y1, { steps: Math.max(5, Math.round(Math.hypot(x1 - x0, y1 - y0) / 20)) });
    await page.waitForTimeout(150);
  }
  return length;
}

async function stats(session: Session) {
  const res = await fetch(`${baseUrl}/api/v1/cursor/sessions/${session.id}/stats?bucket=1h`, {
    headers: { authorization: `Bearer ${session.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { totals: { distance: number; event_count: number } };
}

async function waitForStats(session: Session, distance: number, tolerance: number) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const body = await stats(session);
    if (Math.abs(body.totals.distance - distance) <= tolerance || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the live cursor page, served by wrangler dev as npm start runs it", () => {
  it("shows the distance the mouse travelled, live, and the stats endpoint agrees", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    const session = await openPage(page, problems);

    // The starting point: one sample, no distance yet.
    await page.mouse.move(100, 200);
    await page.waitForFunction(() => Number(document.getElementById("events")!.dataset.value) >= 1);
    expect(await figure(page, "distance")).toBe(0);

    const path: [number, number][] = [
      [100, 200],
      [700, 200],
      [700, 500],
      [100, 500],
      [400, 100],
    ];
    const length = await trace(page, path); // 600 + 300 + 600 + 500 = 2000
    expect(length).toBe(2000);
    const tolerance = length * 0.01; // per-frame sampling of straight lines loses nothing but rounding

    await page.waitForFunction(
      (min) => Number(document.getElementById("distance")!.dataset.value) >= min,
      length - tolerance,
      {
        timeout: 10_000,
      },
    );
    const shown = await figure(page, "distance");
    expect(Math.abs(shown - length)).toBeLessThanOrEqual(tolerance);
    // The large figure settles on the same number, formatted.
    await page.waitForFunction(
      (value) => document.getElementById("distance")!.textContent!.replace(/\D/g, "") === String(Math.round(value)),
      shown,
    );
    // Charts were drawn from the live frames.
    expect(await page.locator("#chart-speed canvas").count()).toBe(1);
    expect(await page.locator("#chart-distance canvas").count()).toBe(1);
    expect(await figure(page, "peak")).toBeGreaterThan(0);

    // The batches went over the socket: no POST per batch. The session's /stats agrees with what the page showed.
    expect(requested.filter((url) => url.includes("/events"))).toEqual([]);
    const events = await figure(page, "events");
    const body = await waitForStats(session, shown, 0.01);
    expect(body.totals.distance).toBeCloseTo(shown, 2);
    expect(body.totals.event_count).toBe(events);

    expect(requested.filter((url) => !url.startsWith(baseUrl))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a clear banner while the server is unreachable, then sends what it kept", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    // Offline emulation does not cut an open WebSocket: the route does, and refuses new ones while "offline".
    let down = false;
    const open: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/live/, (ws) => {
      if (down) return ws.close({ code: 4004, reason: "offline" });
      open.push(ws);
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => ws.send(message));
    });
    const problems: string[] = [];
    const session = await openPage(page, problems);
    await page.mouse.move(100, 100);
    await page.waitForFunction(() => Number(document.getElementById("events")!.dataset.value) >= 1);

    await context.setOffline(true);
    down = true;
    for (const ws of open.splice(0)) await ws.close({ code: 4004, reason: "offline" });
    const offlineLength = await trace(page, [
      [100, 100],
      [500, 100],
      [500, 400],
    ]);
    const banner = page.locator("#banner");
    await banner.waitFor({ state: "visible", timeout: 10_000 });
    expect(await banner.textContent()).toContain("Can't reach the server");
    // Between its retries the page says "reconnecting" for a moment; once they keep failing it says "offline".
    await expect
      .poll(() => page.evaluate(() => document.body.dataset.state), { timeout: 15_000, interval: 50 })
      .toBe("offline");

    await context.setOffline(false);
    down = false;
    await banner.waitFor({ state: "hidden", timeout: 20_000 });
    await page.waitForFunction(
      (min) => Number(document.getElementById("distance")!.dataset.value) >= min,
      offlineLength * 0.99,
      { timeout: 20_000 },
    );
    const body = await waitForStats(session, offlineLength, offlineLength * 0.01);
    expect(Math.abs(body.totals.distance - offlineLength)).toBeLessThanOrEqual(offlineLength * 0.01);
    await context.close();
  });

  it("stores a batch once when its ack is lost and the page sends it again", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    // The next batch reaches the server and is stored, but its ack never reaches the page, and the socket drops: the
    // page resends it on the new socket, and the session refuses the copy (409 with next_seq) instead of storing it
    // twice.
    let lost = 0;
    let armed = false;
    await page.routeWebSocket(/\/live/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        if (armed && lost === 0 && typeof message === "string" && message.startsWith('{"type":"ack"')) {
          lost += 1;
          ws.close({ code: 4002, reason: "ack lost" });
          return;
        }
        ws.send(message);
      });
    });
    const problems: string[] = [];
    const session = await openPage(page, problems);
    await page.mouse.move(100, 100);
    await page.waitForFunction(() => Number(document.getElementById("events")!.dataset.value) >= 1);
    armed = true;

    const length = await trace(page, [
      [100, 100],
      [600, 100],
      [600, 500],
      [100, 500],
    ]);
    expect(lost).toBe(1);
    const body = await waitForStats(session, length, length * 0.01);
    expect(Math.abs(body.totals.distance - length)).toBeLessThanOrEqual(length * 0.01);

    const res = await fetch(`${baseUrl}/api/v1/cursor/sessions/${session.id}/events?limit=1000`, {
      headers: { authorization: `Bearer ${session.token}` },
    });
    const { items } = (await res.json()) as { items: { x: number; y: number; t: number }[] };
    const keys = items.map((e) => `${e.x},${e.y},${e.t}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(body.totals.event_count).toBe(items.length);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("fits a phone-sized screen without sideways scrolling", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const page = await context.newPage();
    const problems: string[] = [];
    await openPage(page, problems);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The touch pad is there for fingers (coarse pointer), and its gestures are not scrolling.
    const pad = page.locator("#pad");
    expect(await pad.isVisible()).toBe(true);
    expect(await pad.evaluate((el) => getComputedStyle(el).touchAction)).toBe("none");
    expect(problems).toEqual([]);
    await context.close();
  });
});
