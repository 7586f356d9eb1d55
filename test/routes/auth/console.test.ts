import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createUser, expectProblem } from "../../helpers";
import { type Inbox, inbox } from "../../mail/inbox";

/**
 * The console's cookie sign-in (docs/accounts.md, "The console: cookie sign-in"): the routes, the cookies, and every
 * refusal of the rule that a cookie counts only with `X-Console: 1` from the console's own origin.
 */

const ORIGIN = "http://localhost";
const box = inbox({ PUBLIC_ORIGIN: ORIGIN });

/** A browser's cookie jar for one origin: what Set-Cookie stored, sent back as Cookie. */
class Jar {
  readonly cookies = new Map<string, string>();
  readonly attributes = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", value = ""] = pair.split("=", 2) as [string, string];
      this.attributes.set(name, attributes.join("; "));
      if (/Max-Age=0\b/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
  get(name: string) {
    return this.cookies.get(name);
  }
}

type Init = { method?: string; json?: unknown; headers?: Record<string, string>; token?: string };

/** A request as the console sends it (X-Console, the console's Origin, the jar's cookies); `headers` override. */
function fromConsole(jar: Jar, path: string, init: Init = {}, target: Inbox = box) {
  const headers: Record<string, string> = { "x-console": "1", origin: ORIGIN, ...init.headers };
  if (jar.cookies.size > 0) headers.cookie = jar.header();
  for (const [name, value] of Object.entries(headers)) if (value === "") delete headers[name];
  return target.fetch(path, { method: init.method ?? "GET", json: init.json, headers, token: init.token });
}

async function consoleSignIn(email: string, password: string) {
  const jar = new Jar();
  const res = jar.take(
    await fromConsole(jar, "/auth/session", {
      method: "POST",
      json: { email, password },
      headers: { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}` },
    }),
  );
  expect(res.status).toBe(200);
  return { jar, body: (await res.json()) as Record<string, unknown> };
}

describe("console sign-in: cookies, never tokens in the body", { timeout: 30_000 }, () => {
  it("POST /auth/session sets __Host- cookies (HttpOnly, Secure, SameSite=Strict, Path=/) and answers no token", async () => {
    const user = await createUser("member");
    const { jar, body } = await consoleSignIn(user.email, user.password);
    expect(Object.keys(body).sort()).toEqual(["expires_in", "refresh_expires_in", "user"]);
    expect(body.expires_in).toBe(Number(env.ACCESS_TOKEN_TTL_SECONDS));
    const access = jar.get("__Host-access")!;
    const refresh = jar.get("__Host-refresh")!;
    expect(access).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(refresh).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(JSON.stringify(body)).not.toContain(access);
    expect(JSON.stringify(body)).not.toContain(refresh);
    for (const name of ["__Host-access", "__Host-refresh"]) {
      const attributes = jar.attributes.get(name)!;
      for (const attribute of ["Path=/", "HttpOnly", "Secure", "SameSite=Strict"])
        expect(attributes).toContain(attribute);
      expect(attributes).not.toMatch(/Domain=/i);
    }
    expect(jar.attributes.get("__Host-access")).toContain(`Max-Age=${env.ACCESS_TOKEN_TTL_SECONDS}`);
    expect(jar.attributes.get("__Host-refresh")).toContain(`Max-Age=${Number(env.REFRESH_TOKEN_TTL_DAYS) * 86400}`);
    // The device token as login sets it: script cannot read it, and only the auth routes get it back.
    expect(jar.get("device_token")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const device = jar.attributes.get("device_token")!;
    for (const attribute of ["Path=/api/v1/auth", "HttpOnly", "SameSite=Strict"]) expect(device).toContain(attribute);
  });

  it("the cookie signs in reads and writes from the console; a GET without Origin needs Sec-Fetch-Site: same-origin", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const me = await fromConsole(jar, "/auth/me");
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);
    const sameOrigin = await fromConsole(jar, "/auth/me", { headers: { origin: "", "sec-fetch-site": "same-origin" } });
    expect(sameOrigin.status).toBe(200);
    const task = await fromConsole(jar, "/tasks", { method: "POST", json: { title: "from the console" } });
    expect(task.status).toBe(201);
  });

  it("GET /auth/config says whether sign-up is open", async () => {
    expect(await (await api("/auth/config")).json()).toEqual({ signup: true });
    const closed = inbox({ ALLOW_SIGNUP: "false" });
    expect(await (await closed.fetch("/auth/config")).json()).toEqual({ signup: false });
  });

  it("POST /auth/session/register: 201 with the cookies; 403 when sign-up is off", async () => {
    const jar = new Jar();
    const email = `console-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = jar.take(
      await fromConsole(jar, "/auth/session/register", {
        method: "POST",
        json: { email, password: "a long enough password" },
        headers: { "cf-connecting-ip": "203.0.113.201" },
      }),
    );
    expect(res.status).toBe(201);
    expect(jar.get("__Host-access")).toBeDefined();
    expect(((await (await fromConsole(jar, "/auth/me")).json()) as { email: string }).email).toBe(email);
    await box.deliver();
    expect(box.to(email, /confirm your email/i)[0]?.text).toContain(`${ORIGIN}/verify-email#token=`);

    const closed = inbox({ PUBLIC_ORIGIN: ORIGIN, ALLOW_SIGNUP: "false" });
    const refused = await fromConsole(
      new Jar(),
      "/auth/session/register",
      { method: "POST", json: { email: `x-${email}`, password: "a long enough password" } },
      closed,
    );
    await expectProblem(refused, 403);
  });

  it("POST /auth/session/refresh rotates both cookies; a reused refresh cookie ends the sign-in and clears them", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const stolen = jar.get("__Host-refresh")!;
    const rotated = jar.take(await fromConsole(jar, "/auth/session/refresh", { method: "POST" }));
    expect(rotated.status).toBe(200);
    expect(Object.keys((await rotated.json()) as object).sort()).toEqual(["expires_in", "refresh_expires_in", "user"]);
    expect(jar.get("__Host-refresh")).not.toBe(stolen);
    expect((await fromConsole(jar, "/auth/me")).status).toBe(200);

    const thief = new Jar();
    thief.cookies.set("__Host-refresh", stolen);
    const reused = thief.take(await fromConsole(thief, "/auth/session/refresh", { method: "POST" }));
    await expectProblem(reused, 401);
    expect(thief.cookies.size).toBe(0);
    // The whole sign-in ended: the owner's fresh access cookie too, at once.
    await expectProblem(await fromConsole(jar, "/auth/me"), 401);
    await expectProblem(await fromConsole(new Jar(), "/auth/session/refresh", { method: "POST" }), 401);
  });

  it("DELETE /auth/session ends the sign-in at once and clears the cookies", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const kept = new Jar();
    for (const [name, value] of jar.cookies) kept.cookies.set(name, value);
    const out = jar.take(await fromConsole(jar, "/auth/session", { method: "DELETE" }));
    expect(out.status).toBe(204);
    expect(jar.get("__Host-access")).toBeUndefined();
    expect(jar.get("__Host-refresh")).toBeUndefined();
    // A copy of the old cookies is worth nothing.
    await expectProblem(await fromConsole(kept, "/auth/me"), 401);
    await expectProblem(await fromConsole(kept, "/tasks", { method: "POST", json: { title: "after sign-out" } }), 401);
    await expectProblem(await fromConsole(kept, "/auth/session/refresh", { method: "POST" }), 401);
    expect((await fromConsole(new Jar(), "/auth/session", { method: "DELETE" })).status).toBe(204);
  });

  it("a password change by cookie answers a ConsoleSession and new cookies; the old cookie dies", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const old = jar.get("__Host-access")!;
    const res = jar.take(
      await fromConsole(jar, "/auth/password/change", {
        method: "POST",
        json: { current_password: user.password, new_password: "a brand new console password" },
      }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["expires_in", "refresh_expires_in", "user"]);
    expect(jar.get("__Host-access")).not.toBe(old);
    expect((await fromConsole(jar, "/auth/me")).status).toBe(200);
    const stale = new Jar();
    stale.cookies.set("__Host-access", old);
    await expectProblem(await fromConsole(stale, "/auth/me"), 401);
  });

  it("Bearer wins when both are sent, and Bearer clients are unchanged", async () => {
    const cookieUser = await createUser("member");
    const bearerUser = await createUser("member");
    const { jar } = await consoleSignIn(cookieUser.email, cookieUser.password);
    const both = await fromConsole(jar, "/auth/me", { token: bearerUser.token });
    expect(((await both.json()) as { id: string }).id).toBe(bearerUser.id);
    // Even from another origin: a Bearer request's cookies are not looked at.
    const elsewhere = await fromConsole(jar, "/auth/me", {
      token: bearerUser.token,
      headers: { origin: "https://evil.example" },
    });
    expect(elsewhere.status).toBe(200);
  });
});

describe("console cookie refusals", { timeout: 30_000 }, () => {
  it("a cookie without X-Console is ignored: 401 on signed-in routes (saying why), anonymous on public ones", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const noHeader = { headers: { "x-console": "" } };
    const me = await expectProblem(await fromConsole(jar, "/auth/me", noHeader), 401);
    expect(me.detail).toMatch(/X-Console: 1/);
    await expectProblem(
      await fromConsole(jar, "/tasks", { ...noHeader, method: "POST", json: { title: "forged" } }),
      401,
    );
    const products = await fromConsole(jar, "/products", noHeader);
    expect(products.status).toBe(200);
    expect(products.headers.get("cache-control")).toMatch(/public/);
    // A value other than 1 is no header either.
    await expectProblem(await fromConsole(jar, "/auth/me", { headers: { "x-console": "true" } }), 401);
  });

  it("a cookie from another Origin is refused (403), on reads and writes, and without Origin unless same-origin", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const evil = { headers: { origin: "https://evil.example" } };
    const refused = await expectProblem(await fromConsole(jar, "/auth/me", evil), 403);
    expect(refused.detail).toContain("https://evil.example");
    await expectProblem(await fromConsole(jar, "/tasks", { ...evil, method: "POST", json: { title: "csrf" } }), 403);
    await expectProblem(await fromConsole(jar, "/auth/me", { headers: { origin: "http://localhost:8787" } }), 403);
    await expectProblem(await fromConsole(jar, "/auth/me", { headers: { origin: "null" } }), 403);
    // No Origin: a GET needs Sec-Fetch-Site: same-origin; a write always needs the Origin.
    await expectProblem(await fromConsole(jar, "/auth/me", { headers: { origin: "" } }), 403);
    await expectProblem(
      await fromConsole(jar, "/auth/me", { headers: { origin: "", "sec-fetch-site": "cross-site" } }),
      403,
    );
    await expectProblem(
      await fromConsole(jar, "/tasks", {
        method: "POST",
        json: { title: "csrf" },
        headers: { origin: "", "sec-fetch-site": "same-origin" },
      }),
      403,
    );
  });

  it("the /auth/session routes answer only the console: 403 without X-Console or from another Origin", async () => {
    const user = await createUser("member");
    const body = { method: "POST", json: { email: user.email, password: user.password } };
    await expectProblem(await fromConsole(new Jar(), "/auth/session", { ...body, headers: { "x-console": "" } }), 403);
    await expectProblem(
      await fromConsole(new Jar(), "/auth/session", { ...body, headers: { origin: "https://evil.example" } }),
      403,
    );
    await expectProblem(
      await fromConsole(new Jar(), "/auth/session/refresh", {
        method: "POST",
        headers: { origin: "https://evil.example" },
      }),
      403,
    );
    await expectProblem(
      await fromConsole(new Jar(), "/auth/session", { method: "DELETE", headers: { "x-console": "" } }),
      403,
    );
    // Checked before the body: a stranger learns nothing about its shape.
    const early = await expectProblem(
      await fromConsole(new Jar(), "/auth/session", {
        method: "POST",
        json: { nonsense: 1 },
        headers: { "x-console": "" },
      }),
      403,
    );
    expect(early.errors).toBeUndefined();
  });

  it("without PUBLIC_ORIGIN no cookie is ever taken", async () => {
    const user = await createUser("member");
    const { jar } = await consoleSignIn(user.email, user.password);
    const unset = inbox({ PUBLIC_ORIGIN: "" });
    await expectProblem(await fromConsole(jar, "/auth/me", {}, unset), 403);
    await expectProblem(
      await fromConsole(
        new Jar(),
        "/auth/session",
        { method: "POST", json: { email: user.email, password: "x" } },
        unset,
      ),
      403,
    );
  });

  it("logout-all, a password change elsewhere, a role change and deletion end the cookie session at once", async () => {
    const root = await createUser("superuser");
    const ended = async (jar: Jar) => {
      await expectProblem(await fromConsole(jar, "/auth/me"), 401);
      await expectProblem(await fromConsole(jar, "/auth/session/refresh", { method: "POST" }), 401);
    };

    const a = await createUser("member");
    const byLogoutAll = await consoleSignIn(a.email, a.password);
    const other = await consoleSignIn(a.email, a.password);
    const out = other.jar.take(await fromConsole(other.jar, "/auth/logout-all", { method: "POST" }));
    expect(out.status).toBe(204);
    expect(other.jar.get("__Host-access")).toBeUndefined();
    await ended(byLogoutAll.jar);

    const b = await createUser("member");
    const byChange = await consoleSignIn(b.email, b.password);
    const changed = await api("/auth/password/change", {
      method: "POST",
      token: b.token,
      json: { current_password: b.password, new_password: "changed somewhere else" },
    });
    expect(changed.status).toBe(200);
    await ended(byChange.jar);

    const admin = await createUser("admin");
    const byRole = await consoleSignIn(admin.email, admin.password);
    expect((await fromConsole(byRole.jar, "/users")).status).toBe(200);
    expect(
      (await api(`/users/${admin.id}`, { method: "PATCH", token: root.token, json: { role: "member" } })).status,
    ).toBe(200);
    await expectProblem(await fromConsole(byRole.jar, "/auth/me"), 401);
    await expectProblem(await fromConsole(byRole.jar, "/users"), 401);

    const d = await createUser("member");
    const byDeletion = await consoleSignIn(d.email, d.password);
    expect((await api(`/users/${d.id}`, { method: "DELETE", token: root.token })).status).toBe(204);
    await ended(byDeletion.jar);
  });

  it("a WebSocket signed in by cookie must come from the console's Origin; admins only", async () => {
    const session = await api("/cursor/sessions", { method: "POST", json: { viewport: { width: 800, height: 600 } } });
    expect(session.status).toBe(201);
    const { id } = (await session.json()) as { id: string };
    const admin = await createUser("admin");
    const member = await createUser("member");
    const adminJar = (await consoleSignIn(admin.email, admin.password)).jar;
    const memberJar = (await consoleSignIn(member.email, member.password)).jar;
    // A socket cannot send X-Console: only the Origin is checked.
    const upgrade = (jar: Jar, origin?: string) =>
      fromConsole(jar, `/cursor/sessions/${id}/live`, {
        headers: { upgrade: "websocket", "x-console": "", origin: origin ?? "" },
      });
    await expectProblem(await upgrade(adminJar, "https://evil.example"), 403);
    await expectProblem(await upgrade(adminJar), 403);
    await expectProblem(await upgrade(memberJar, ORIGIN), 403);
    const opened = await upgrade(adminJar, ORIGIN);
    expect(opened.status).toBe(101);
    opened.webSocket?.accept();
    opened.webSocket?.close(1000, "done");
    // The session's other routes take the cookie by the usual rule.
    expect((await fromConsole(adminJar, `/cursor/sessions/${id}/stats`)).status).toBe(200);
    await expectProblem(
      await fromConsole(adminJar, `/cursor/sessions/${id}/stats`, { headers: { origin: "https://evil.example" } }),
      403,
    );
  });
});
