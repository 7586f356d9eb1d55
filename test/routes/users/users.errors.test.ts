import { describe, expect, it } from "vitest";
import { api, createUser, expectProblem, tableCounts } from "../../helpers";

const unique = () => crypto.randomUUID().slice(0, 8);

describe("users: malformed requests", { timeout: 20_000 }, () => {
  it.each([
    ["/users/not-a-uuid", "id"],
    ["/users?limit=101", "limit"],
    ["/users?offset=-1", "offset"],
    ["/users?role=owner", "role"],
    ["/users?ordering=password_hash", "ordering"],
  ])("400 for %s", async (path, field) => {
    const admin = await createUser("admin");
    const body = await expectProblem(await api(path, { token: admin.token }), 400);
    expect(body.errors?.map((e) => e.path)).toContain(field);
  });

  it("404 for an unknown id on GET, PATCH and DELETE", async () => {
    const admin = await createUser("admin");
    const id = crypto.randomUUID();
    await expectProblem(await api(`/users/${id}`, { token: admin.token }), 404);
    await expectProblem(
      await api(`/users/${id}`, { method: "PATCH", token: admin.token, json: { username: "whoever" } }),
      404,
    );
    await expectProblem(await api(`/users/${id}`, { method: "DELETE", token: admin.token }), 404);
  });
});

describe("users: invalid bodies are 422 and change nothing", { timeout: 20_000 }, () => {
  it.each([
    ["a superuser role", { role: "superuser" }, "role"],
    ["a short password", { password: "short" }, "password"],
    ["an unknown field", { is_admin: true }, "(body)"],
    ["nothing to change", {}, "(body)"],
    ["a bad email", { email: "nope" }, "email"],
  ])("PATCH with %s", async (_label, json, path) => {
    const admin = await createUser("admin");
    const member = await createUser("member");
    const before = await tableCounts();
    const body = await expectProblem(
      await api(`/users/${member.id}`, { method: "PATCH", token: admin.token, json }),
      422,
    );
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(await tableCounts()).toEqual(before);
  });

  it("PATCH with a password equal to the user's stored email", async () => {
    const admin = await createUser("admin");
    const member = await createUser("member");
    const body = await expectProblem(
      await api(`/users/${member.id}`, { method: "PATCH", token: admin.token, json: { password: member.email } }),
      422,
    );
    expect(body.errors?.[0].path).toBe("password");
    const login = await api("/auth/login", {
      method: "POST",
      json: { email: member.email, password: member.password },
    });
    expect(login.status).toBe(200);
  });

  it.each([
    ["a superuser role", { role: "superuser" }, "role"],
    ["no password", { password: undefined }, "password"],
    ["a password equal to the email", { password: "SAME-@example.com" }, "password"],
  ])("POST with %s", async (_label, override, path) => {
    const admin = await createUser("admin");
    const json = { email: "same-@example.com", username: `u-${unique()}`, password: "long enough", ...override };
    const before = await tableCounts();
    const body = await expectProblem(await api("/users", { method: "POST", token: admin.token, json }), 422);
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(await tableCounts()).toEqual(before);
  });
});

describe("users: conflicts are 409 with no second row", { timeout: 20_000 }, () => {
  it("POST with a taken email or username", async () => {
    const admin = await createUser("admin");
    const existing = await createUser("member");
    const before = await tableCounts();
    const email = await expectProblem(
      await api("/users", {
        method: "POST",
        token: admin.token,
        json: { email: existing.email.toUpperCase(), username: `new-${unique()}`, password: "long enough" },
      }),
      409,
    );
    expect(email.errors?.[0].path).toBe("email");
    const username = await expectProblem(
      await api("/users", {
        method: "POST",
        token: admin.token,
        json: { email: `new-${unique()}@example.com`, username: existing.username, password: "long enough" },
      }),
      409,
    );
    expect(username.errors?.[0].path).toBe("username");
    expect(await tableCounts()).toEqual(before);
  });

  it("PATCH onto another user's email or username; the user is unchanged", async () => {
    const admin = await createUser("admin");
    const a = await createUser("member");
    const b = await createUser("member");
    await expectProblem(
      await api(`/users/${a.id}`, { method: "PATCH", token: admin.token, json: { email: b.email } }),
      409,
    );
    await expectProblem(
      await api(`/users/${a.id}`, { method: "PATCH", token: admin.token, json: { username: b.username } }),
      409,
    );
    const now = (await (await api(`/users/${a.id}`, { token: admin.token })).json()) as {
      email: string;
      username: string;
    };
    expect(now).toMatchObject({ email: a.email, username: a.username });
  });

  it("PATCH to one's own current email is not a conflict", async () => {
    const admin = await createUser("admin");
    const a = await createUser("member");
    const res = await api(`/users/${a.id}`, { method: "PATCH", token: admin.token, json: { email: a.email } });
    expect(res.status).toBe(200);
  });
});
