import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../../src/app";
import { api, BASE, createUser, expectProblem, tableCounts } from "../../helpers";

const unique = () => crypto.randomUUID().slice(0, 8);
const register = (json: unknown) => api("/auth/register", { method: "POST", json });

describe("register: invalid input is 422 with the offending field", () => {
  it.each([
    ["empty object", {}, "email"],
    ["bad email", { email: "not-an-email", password: "long enough pw" }, "email"],
    ["short password", { email: "short@example.com", password: "seven77" }, "password"],
    ["password over 128", { email: "long@example.com", password: "x".repeat(129) }, "password"],
    ["password equal to the email", { email: "same@example.com", password: "SAME@example.com" }, "password"],
    [
      "password equal to the username",
      { email: "u1@example.com", password: "johnny-b", username: "johnny-b" },
      "password",
    ],
    ["bad username", { email: "u2@example.com", password: "long enough pw", username: "-x" }, "username"],
    ["unknown field", { email: "u3@example.com", password: "long enough pw", role: "admin" }, "(body)"],
  ])("%s", async (_label, json, path) => {
    const before = await tableCounts();
    const res = await register(json);
    const body = await expectProblem(res, 422);
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(await tableCounts()).toEqual(before);
  });

  it("415 for a non-JSON body, 400 for malformed or absent JSON, 422 for no body at all", async () => {
    await expectProblem(
      await api("/auth/register", { method: "POST", headers: { "content-type": "application/json" } }),
      400,
    );
    await expectProblem(await api("/auth/register", { method: "POST" }), 422);
    await expectProblem(
      await api("/auth/register", { method: "POST", body: "email=a", headers: { "content-type": "text/plain" } }),
      415,
    );
    await expectProblem(
      await api("/auth/register", { method: "POST", body: "{", headers: { "content-type": "application/json" } }),
      400,
    );
  });
});

describe("register: conflicts", { timeout: 20_000 }, () => {
  it("409 for a taken email in any casing, and the database is as it was", async () => {
    const existing = await createUser("member");
    const before = await tableCounts();
    const body = await expectProblem(
      await register({ email: existing.email.toUpperCase(), password: "another password" }),
      409,
    );
    expect(body.errors).toEqual([{ path: "email", message: "email already taken" }]);
    expect(await tableCounts()).toEqual(before);
  });

  it("409 for a taken username (compared lower-case)", async () => {
    const existing = await createUser("member");
    const before = await tableCounts();
    const body = await expectProblem(
      await register({
        email: `x-${unique()}@example.com`,
        password: "another password",
        username: existing.username.toUpperCase(),
      }),
      409,
    );
    expect(body.errors?.[0].path).toBe("username");
    expect(await tableCounts()).toEqual(before);
  });

  it("the superuser's email is reserved even before that account exists", async () => {
    const before = await tableCounts();
    await expectProblem(await register({ email: env.SUPERUSER_EMAIL, password: "trying to squat" }), 409);
    expect(await tableCounts()).toEqual(before);
  });

  it("403 when ALLOW_SIGNUP=false, before the body is even looked at", async () => {
    const app = createApp();
    const closed = { ...env, ALLOW_SIGNUP: "false" };
    const before = await tableCounts();
    for (const body of [JSON.stringify({ email: `closed-${unique()}@example.com`, password: "long enough pw" }), "{"]) {
      const res = await app.fetch(
        new Request(`${BASE}/api/v1/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }),
        closed,
        createExecutionContext(),
      );
      const problem = await expectProblem(res, 403);
      expect(problem.detail).toMatch(/sign-up is disabled/i);
    }
    expect(await tableCounts()).toEqual(before);
  });
});

describe("login errors", { timeout: 20_000 }, () => {
  it("unknown email and wrong password answer the same status and body", async () => {
    const user = await createUser("member");
    const strip = ({ request_id: _r, ...rest }: Record<string, unknown>) => rest;
    const unknown = await api("/auth/login", {
      method: "POST",
      json: { email: `nobody-${unique()}@example.com`, password: user.password },
    });
    const wrong = await api("/auth/login", { method: "POST", json: { email: user.email, password: "wrong password" } });
    const a = await expectProblem(unknown, 401);
    const b = await expectProblem(wrong, 401);
    expect(strip(a)).toEqual(strip(b));
    expect(a.detail).toBe("Invalid email or password.");
    expect([...unknown.headers.keys()].sort()).toEqual([...wrong.headers.keys()].sort());
  });

  it("422 for a missing password, and nothing is counted as a failure", async () => {
    const before = await tableCounts();
    const body = await expectProblem(
      await api("/auth/login", { method: "POST", json: { email: "a@example.com" } }),
      422,
    );
    expect(body.errors?.[0].path).toBe("password");
    expect(await tableCounts()).toEqual(before);
  });
});

describe("refresh and logout errors", { timeout: 20_000 }, () => {
  it.each([
    ["unknown", "A".repeat(43)],
    ["malformed", "not a token at all"],
    ["an access token", "eyJhbGciOiJIUzI1NiJ9.e30.x"],
  ])("401 for an %s refresh token", async (_label, token) => {
    const res = await api("/auth/refresh", { method: "POST", json: { refresh_token: token } });
    await expectProblem(res, 401);
  });

  it("401 for an expired refresh token", async () => {
    const user = await createUser("member");
    const login = await api("/auth/login", { method: "POST", json: { email: user.email, password: user.password } });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    await env.DB.prepare("UPDATE refresh_tokens SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1000, user.id)
      .run();
    const body = await expectProblem(await api("/auth/refresh", { method: "POST", json: { refresh_token } }), 401);
    expect(body.detail).toMatch(/expired/);
  });

  it("422 when the refresh token is missing or empty", async () => {
    for (const path of ["/auth/refresh", "/auth/logout"]) {
      await expectProblem(await api(path, { method: "POST", json: {} }), 422);
      await expectProblem(await api(path, { method: "POST", json: { refresh_token: "" } }), 422);
    }
  });
});

describe("me errors", () => {
  it.each([
    ["no Authorization header", undefined],
    ["a non-bearer scheme", "Basic dXNlcjpwYXNz"],
    ["an empty bearer", "Bearer "],
    ["garbage", "Bearer garbage"],
  ])("401 with %s", async (_label, authorization) => {
    const res = await api("/auth/me", { headers: authorization ? { authorization } : {} });
    await expectProblem(res, 401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});

describe("production safety", () => {
  it("503 on the auth routes when ENVIRONMENT=production and JWT_SECRET is unsafe, with the reason only in the log", async () => {
    const user = await createUser("member");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await createApp().fetch(
      new Request(`${BASE}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: user.email, password: user.password }),
      }),
      { ...env, ENVIRONMENT: "production", JWT_SECRET: "short" },
      createExecutionContext(),
    );
    const lines = logged.mock.calls.map((args) => String(args[0]));
    logged.mockRestore();
    const body = await expectProblem(res, 503);
    expect(body.detail).not.toContain("JWT_SECRET");
    expect(lines.some((line) => line.includes("JWT_SECRET is shorter than 32 bytes"))).toBe(true);
  });
});
