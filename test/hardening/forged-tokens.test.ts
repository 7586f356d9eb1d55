import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { signCursorToken } from "../../src/auth/session-tokens";
import { ACCESS_TOKEN_TYPE, signAccessToken, signJwt } from "../../src/auth/tokens";
import { api, call, expectProblem } from "../helpers";
import {
  type Callers,
  type CursorSessionFixture,
  makeCallers,
  makeCursorSession,
  makeUser,
  SHARED_PASSWORD,
} from "./support";

let c: Callers;
let session: CursorSessionFixture;

beforeAll(async () => {
  c = await makeCallers();
  session = await makeCursorSession();
});

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function claims(user: { id: string; role: string }, now = Math.floor(Date.now() / 1000)) {
  return {
    sub: user.id,
    role: user.role,
    iss: env.JWT_ISSUER,
    aud: env.JWT_AUDIENCE,
    iat: now,
    exp: now + 900,
    jti: crypto.randomUUID(),
  };
}

/** Signs arbitrary header and claims with the real secret (or another one). */
function sign(payload: Record<string, unknown>, header: Record<string, unknown>, secret = env.JWT_SECRET) {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", ...header }).sign(new TextEncoder().encode(secret));
}

/** Where a bearer token is checked: a signed-in route, an admin route, a public route and a cursor-session route. */
const TARGETS = () => [
  "/api/v1/auth/me",
  "/api/v1/users",
  "/api/v1/products",
  `/api/v1/cursor/sessions/${session.id}/stats`,
];

/** Every target refuses the token with a 401 problem, a WWW-Authenticate challenge and a detail that names no check. */
async function refusedEverywhere(
  token: string,
  detail = /^(The token is invalid\.|The token has expired\.|.*sign in again\.)$/,
) {
  for (const path of TARGETS()) {
    const res = await call(path, { token });
    const body = await expectProblem(res, 401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(body.detail).toMatch(detail);
  }
}

describe("forged, foreign and stale access tokens are refused", () => {
  it("alg: none", async () => {
    const unsigned = `${b64url({ alg: "none", typ: ACCESS_TOKEN_TYPE })}.${b64url(claims(c.admin))}.`;
    await refusedEverywhere(unsigned);
  });

  it("signed with a foreign key", async () => {
    await refusedEverywhere(
      await sign(claims(c.admin), { typ: ACCESS_TOKEN_TYPE }, "another-secret-0123456789abcdef0123456789"),
    );
  });

  it("a valid token with its payload edited (member → admin)", async () => {
    const [header, , signature] = c.member.token.split(".");
    const forged = `${header}.${b64url({ ...JSON.parse(atob(c.member.token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))), role: "admin" })}.${signature}`;
    await refusedEverywhere(forged);
  });

  it("expired, and not yet valid", async () => {
    const expired = await signAccessToken(env, c.admin, Date.now() - 60 * 60 * 1000);
    await refusedEverywhere(expired, /^The token has expired\.$/);
    const now = Math.floor(Date.now() / 1000);
    await refusedEverywhere(await sign({ ...claims(c.admin), nbf: now + 3600 }, { typ: ACCESS_TOKEN_TYPE }));
  });

  it("wrong issuer, audience or type, and a missing claim", async () => {
    await refusedEverywhere(await sign({ ...claims(c.admin), iss: "someone-else" }, { typ: ACCESS_TOKEN_TYPE }));
    await refusedEverywhere(await sign({ ...claims(c.admin), aud: "another-api" }, { typ: ACCESS_TOKEN_TYPE }));
    await refusedEverywhere(await sign(claims(c.admin), { typ: "JWT" }));
    await refusedEverywhere(await sign(claims(c.admin), {}));
    const { jti: _jti, ...noJti } = claims(c.admin);
    await refusedEverywhere(await sign(noJti, { typ: ACCESS_TOKEN_TYPE }));
    const { role: _role, ...noRole } = claims(c.admin);
    await refusedEverywhere(await sign(noRole, { typ: ACCESS_TOKEN_TYPE }));
  });

  it("a token whose subject never existed", async () => {
    await refusedEverywhere(await signAccessToken(env, { id: crypto.randomUUID(), role: "admin" }));
  });

  it("a refresh token, or a cursor session token, presented as an access token", async () => {
    const login = await api("/auth/login", {
      method: "POST",
      json: { email: c.member.email, password: SHARED_PASSWORD },
    });
    expect(login.status).toBe(200);
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    for (const path of ["/api/v1/auth/me", "/api/v1/products", "/api/v1/users"]) {
      await expectProblem(await call(path, { token: refresh_token }), 401);
      // A session token is signed with the same key but its own typ and audience: no access anywhere else.
      await expectProblem(await call(path, { token: session.token }), 401);
    }
    // Nor does an access-token-shaped JWT with the cursor audience work as a session token.
    const crossed = await signJwt(env, {
      typ: ACCESS_TOKEN_TYPE,
      subject: session.id,
      ttlSeconds: 60,
      audience: `${env.JWT_AUDIENCE}:cursor`,
      claims: { role: "admin" },
    });
    await expectProblem(await call(`/api/v1/cursor/sessions/${session.id}/stats`, { token: crossed }), 401);
    const foreignSession = await signCursorToken(
      { ...env, JWT_SECRET: "another-secret-0123456789abcdef0123456789" },
      session.id,
    );
    await expectProblem(await call(`/api/v1/cursor/sessions/${session.id}/stats`, { token: foreignSession }), 401);
  });

  it("malformed Authorization headers", async () => {
    for (const header of [
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "Bearer a.b",
      "Bearer a.b.c.d",
      `Bearer ${"x".repeat(10_000)}`,
      "Bearer %00%ff.%7b%7d.x",
      "bearer  two tokens",
    ]) {
      const res = await call("/api/v1/auth/me", { headers: { authorization: header } });
      await expectProblem(res, 401);
    }
  });
});

describe("tokens of users who changed", () => {
  it("a deleted user's access and refresh tokens stop working at once", async () => {
    const user = await makeUser("member");
    const login = await api("/auth/login", { method: "POST", json: { email: user.email, password: SHARED_PASSWORD } });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    expect((await api("/auth/me", { token: user.token })).status).toBe(200);
    expect((await api(`/users/${user.id}`, { method: "DELETE", token: c.admin.token })).status).toBe(204);
    await refusedEverywhere(user.token);
    await expectProblem(await api("/auth/refresh", { method: "POST", json: { refresh_token } }), 401);
  });

  it("a demoted admin's old token no longer opens admin routes, nor any other", async () => {
    const admin = await makeUser("admin");
    expect((await api("/users", { token: admin.token })).status).toBe(200);
    const demote = await api(`/users/${admin.id}`, {
      method: "PATCH",
      token: c.superuser.token,
      json: { role: "member" },
    });
    expect(demote.status).toBe(200);
    await refusedEverywhere(admin.token);
    // A fresh token for the new role works, within the new role's rights.
    const fresh = await signAccessToken(env, { id: admin.id, role: "member", tokenVersion: 1 });
    expect((await api("/auth/me", { token: fresh })).status).toBe(200);
    await expectProblem(await api("/users", { token: fresh }), 403);
  });
});

describe("refresh tokens", () => {
  it("a reused refresh token is refused and ends the whole family", async () => {
    const login = await api("/auth/login", {
      method: "POST",
      json: { email: c.other.email, password: SHARED_PASSWORD },
    });
    const first = (await login.json()) as { refresh_token: string };
    const rotated = await api("/auth/refresh", { method: "POST", json: { refresh_token: first.refresh_token } });
    expect(rotated.status).toBe(200);
    const second = (await rotated.json()) as { refresh_token: string };
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: first.refresh_token } }),
      401,
    );
    // The thief and the owner both lose: the child issued before the reuse is revoked too.
    await expectProblem(
      await api("/auth/refresh", { method: "POST", json: { refresh_token: second.refresh_token } }),
      401,
    );
  });

  it("garbage, an access token and a logged-out token are all refused", async () => {
    for (const refresh_token of ["x", c.member.token, "A".repeat(512), "'; DROP TABLE refresh_tokens; --"]) {
      await expectProblem(await api("/auth/refresh", { method: "POST", json: { refresh_token } }), 401);
    }
    const login = await api("/auth/login", {
      method: "POST",
      json: { email: c.member.email, password: SHARED_PASSWORD },
    });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    expect((await api("/auth/logout", { method: "POST", json: { refresh_token } })).status).toBe(204);
    await expectProblem(await api("/auth/refresh", { method: "POST", json: { refresh_token } }), 401);
  });
});

describe("signed tokens whose claims are not what we issue: 401, never a 5xx", () => {
  const cursorTargets = () => [`/api/v1/cursor/sessions/${session.id}/stats`];
  it.each([
    ["a subject that is an array", { sub: ["a", "b"] }],
    ["a subject that is an object", { sub: { id: "x" } }],
    ["a subject that is not a UUID", { sub: "'; DROP TABLE users; --" }],
    ["a role that is not a role", { role: "wizard" }],
    ["a role that is an array", { role: ["admin"] }],
    ["a version that is a string", { ver: "0" }],
    ["a negative version", { ver: -1 }],
    ["a session id that is a number", { sid: 7 }],
    ["a jti that is an object", { jti: { a: 1 } }],
  ])("an access token with %s", async (_label, bad) => {
    const payload = { ...claims(c.admin), ver: 0, ...bad };
    await refusedEverywhere(await sign(payload, { typ: ACCESS_TOKEN_TYPE }));
  });

  it("a cursor session token whose subject is an array or not a UUID", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const sub of [[session.id], { id: session.id }, 42]) {
      const token = await sign(
        {
          sub,
          iss: env.JWT_ISSUER,
          aud: `${env.JWT_AUDIENCE}:cursor`,
          iat: now,
          exp: now + 60,
          jti: crypto.randomUUID(),
        },
        { typ: "cursor+jwt" },
      );
      for (const path of cursorTargets()) {
        const res = await call(path, { token });
        expect(res.status, `${JSON.stringify(sub)} on ${path}`).toBe(401);
      }
    }
  });

  it("a device token whose subject is an array counts as no device token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const device = await sign(
      {
        sub: [c.member.id],
        ver: 0,
        iss: env.JWT_ISSUER,
        aud: `${env.JWT_AUDIENCE}:device`,
        iat: now,
        exp: now + 60,
        jti: crypto.randomUUID(),
      },
      { typ: "device+jwt" },
    );
    const res = await api("/auth/login", {
      method: "POST",
      json: { email: c.member.email, password: "wrong", device_token: device },
      headers: { "cf-connecting-ip": "198.51.100.99" },
    });
    expect(res.status).toBe(401);
  });
});
