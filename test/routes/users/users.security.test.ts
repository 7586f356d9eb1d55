import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../../src/db/schema";
import { api, call, createUser, expectProblem, type TestUser, tableCounts } from "../../helpers";

const unique = () => crypto.randomUUID().slice(0, 8);

type Caller = "anonymous" | Role;
type Operation = {
  name: string;
  request: (target: TestUser) => [string, RequestInit & { json?: unknown }];
  ok: number;
};

const operations: Operation[] = [
  { name: "GET /users", request: () => ["/users", {}], ok: 200 },
  {
    name: "POST /users (member)",
    request: () => [
      "/users",
      {
        method: "POST",
        json: { email: `m-${unique()}@example.com`, username: `m-${unique()}`, password: "long enough" },
      },
    ],
    ok: 201,
  },
  { name: "GET /users/{id}", request: (t) => [`/users/${t.id}`, {}], ok: 200 },
  {
    name: "PATCH /users/{id}",
    request: (t) => [`/users/${t.id}`, { method: "PATCH", json: { username: `p-${unique()}` } }],
    ok: 200,
  },
  { name: "DELETE /users/{id}", request: (t) => [`/users/${t.id}`, { method: "DELETE" }], ok: 204 },
];

const expected: Record<Caller, "ok" | 401 | 403> = { anonymous: 401, member: 403, admin: "ok", superuser: "ok" };

describe("role matrix for /users (on a member target)", { timeout: 60_000 }, () => {
  const callers: Partial<Record<Caller, TestUser>> = {};
  beforeAll(async () => {
    callers.member = await createUser("member");
    callers.admin = await createUser("admin");
    callers.superuser = await createUser("superuser");
  }, 30_000);

  for (const caller of Object.keys(expected) as Caller[]) {
    for (const op of operations) {
      const outcome = expected[caller];
      it(`${caller} → ${op.name}: ${outcome === "ok" ? op.ok : outcome}`, async () => {
        const target = await createUser("member");
        const [path, init] = op.request(target);
        const before = await tableCounts();
        const res = await api(path, { ...init, token: callers[caller as Role]?.token });
        if (outcome === "ok") {
          expect(res.status).toBe(op.ok);
          await res.arrayBuffer();
        } else {
          await expectProblem(res, outcome);
          // A refused request writes nothing.
          expect(await tableCounts()).toEqual(before);
          const row = await env.DB.prepare("SELECT username, deleted_at FROM users WHERE id = ?")
            .bind(target.id)
            .first();
          expect(row).toEqual({ username: target.username, deleted_at: null });
        }
      });
    }
  }
});

describe("superuser and admin protection", { timeout: 30_000 }, () => {
  it("nobody changes or deletes the superuser through the API, not even the superuser", async () => {
    const superuser = await createUser("superuser");
    const admin = await createUser("admin");
    for (const caller of [admin, superuser]) {
      for (const json of [{ role: "member" }, { password: "a new password" }, { username: `x-${unique()}` }]) {
        const body = await expectProblem(
          await api(`/users/${superuser.id}`, { method: "PATCH", token: caller.token, json }),
          403,
        );
        expect(body.detail).toMatch(/superuser/);
      }
      await expectProblem(await api(`/users/${superuser.id}`, { method: "DELETE", token: caller.token }), 403);
    }
    const row = await env.DB.prepare("SELECT role, username, deleted_at FROM users WHERE id = ?")
      .bind(superuser.id)
      .first();
    expect(row).toEqual({ role: "superuser", username: superuser.username, deleted_at: null });
  });

  it("an admin may neither delete nor demote themselves", async () => {
    const admin = await createUser("admin");
    const before = await tableCounts();
    await expectProblem(await api(`/users/${admin.id}`, { method: "DELETE", token: admin.token }), 403);
    await expectProblem(
      await api(`/users/${admin.id}`, { method: "PATCH", token: admin.token, json: { role: "member" } }),
      403,
    );
    expect(await tableCounts()).toEqual(before);
    expect((await api("/auth/me", { token: admin.token })).status).toBe(200);
  });

  it("only the superuser creates, promotes, changes or deletes admins", async () => {
    const superuser = await createUser("superuser");
    const admin = await createUser("admin");
    const otherAdmin = await createUser("admin");
    const member = await createUser("member");
    const newAdmin = () => ({
      email: `a-${unique()}@example.com`,
      username: `a-${unique()}`,
      password: "long enough",
      role: "admin",
    });

    const before = await tableCounts();
    await expectProblem(await api("/users", { method: "POST", token: admin.token, json: newAdmin() }), 403);
    await expectProblem(
      await api(`/users/${member.id}`, { method: "PATCH", token: admin.token, json: { role: "admin" } }),
      403,
    );
    await expectProblem(
      await api(`/users/${otherAdmin.id}`, {
        method: "PATCH",
        token: admin.token,
        json: { username: `x-${unique()}` },
      }),
      403,
    );
    await expectProblem(await api(`/users/${otherAdmin.id}`, { method: "DELETE", token: admin.token }), 403);
    expect(await tableCounts()).toEqual(before);

    const created = await api("/users", { method: "POST", token: superuser.token, json: newAdmin() });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { role: string }).role).toBe("admin");
    const promoted = await api(`/users/${member.id}`, {
      method: "PATCH",
      token: superuser.token,
      json: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    // The promotion applies to the member's old token at once: it carries the old role, so it is refused.
    await expectProblem(await api("/auth/me", { token: member.token }), 401);
    const demoted = await api(`/users/${otherAdmin.id}`, {
      method: "PATCH",
      token: superuser.token,
      json: { role: "member" },
    });
    expect(demoted.status).toBe(200);
    await expectProblem(await api("/users", { token: otherAdmin.token }), 401);
  });

  it("a deleted admin's token stops working at once", async () => {
    const superuser = await createUser("superuser");
    const admin = await createUser("admin");
    expect((await api("/users", { token: admin.token })).status).toBe(200);
    expect((await api(`/users/${admin.id}`, { method: "DELETE", token: superuser.token })).status).toBe(204);
    await expectProblem(await api("/users", { token: admin.token }), 401);
  });

  it("401 comes before validation: an anonymous bad body learns nothing about the schema", async () => {
    const res = await api("/users", { method: "POST", json: { nonsense: true } });
    const body = await expectProblem(res, 401);
    expect(body.errors).toBeUndefined();
  });
});

describe("OpenAPI", () => {
  it("documents every accounts route with its security, schemas and error statuses", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { security?: unknown; responses: Record<string, unknown>; requestBody?: unknown }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    const paths = doc.paths;
    for (const [path, method] of [
      ["/api/v1/users", "get"],
      ["/api/v1/users", "post"],
      ["/api/v1/users/{id}", "get"],
      ["/api/v1/users/{id}", "patch"],
      ["/api/v1/users/{id}", "delete"],
      ["/api/v1/auth/me", "get"],
    ]) {
      const op = paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }, { consoleCookie: [] }]);
      expect(Object.keys(op.responses)).toContain("401");
    }
    for (const [path, codes] of [
      ["/api/v1/auth/register", ["201", "403", "409", "415", "422"]],
      ["/api/v1/auth/login", ["200", "401", "422", "429"]],
      ["/api/v1/auth/refresh", ["200", "401", "422"]],
      ["/api/v1/auth/logout", ["204", "422"]],
      ["/api/v1/auth/session", ["200", "401", "403", "422", "429"]],
      ["/api/v1/auth/session/register", ["201", "403", "409", "422", "429"]],
    ] as const) {
      const op = paths[path].post;
      expect(op.security).toEqual([]);
      expect(op.requestBody).toBeDefined();
      for (const code of codes) expect(Object.keys(op.responses), `${path} ${code}`).toContain(code);
    }
    for (const name of [
      "User",
      "UserPage",
      "CreateUser",
      "UpdateUser",
      "Register",
      "Login",
      "TokenPair",
      "ConsoleSession",
      "ConsoleSignIn",
      "AuthConfig",
    ]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    expect(Object.keys(paths["/api/v1/users/{id}"].patch.responses)).toEqual(
      expect.arrayContaining(["200", "400", "401", "403", "404", "409", "415", "422"]),
    );
  });
});
