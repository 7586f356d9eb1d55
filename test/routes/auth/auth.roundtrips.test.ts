import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { assertAvailable } from "../../../src/auth/accounts";
import { getDb } from "../../../src/db/client";
import { ApiError } from "../../../src/lib/errors";
import { createUser } from "../../helpers";

/**
 * D1 behind a counter of round trips: every executed statement (all/run/raw/first) and every batch is one. Each is a
 * network hop to the database in production, so the sign-in paths are held to a fixed number of them.
 */
function countingD1(real: D1Database) {
  const counter = { trips: 0 };
  const realOf = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "all" || prop === "run" || prop === "raw" || prop === "first") {
          return (...args: unknown[]) => {
            counter.trips += 1;
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    realOf.set(proxy, statement);
    return proxy;
  };
  const db = {
    prepare: (query: string) => wrap(real.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => {
      counter.trips += 1;
      return real.batch(statements.map((s) => realOf.get(s) ?? s));
    },
    exec: (query: string) => {
      counter.trips += 1;
      return real.exec(query);
    },
  } as unknown as D1Database;
  return { db, counter };
}

async function post(db: D1Database, path: string, json: unknown, headers: Record<string, string> = {}) {
  return createApp().fetch(
    new Request(`http://localhost/api/v1${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(json),
    }),
    { ...env, DB: db },
    createExecutionContext(),
  );
}

describe("D1 round trips on the sign-in paths", () => {
  it("login: the throttle check, the user, then one batch (the failure counter is cleared inside it)", async () => {
    const user = await createUser("member");
    const { db, counter } = countingD1(env.DB);
    const res = await post(db, "/auth/login", { email: user.email, password: user.password });
    expect(res.status).toBe(200);
    expect(counter.trips).toBe(3);
  });

  it("login still clears the account's failures", async () => {
    const user = await createUser("member");
    const wrong = await post(env.DB, "/auth/login", { email: user.email, password: "wrong password" });
    expect(wrong.status).toBe(401);
    const counted = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?")
      .bind(`acct:${user.email}`)
      .first<{ count: number }>();
    expect(counted?.count).toBe(1);
    expect((await post(env.DB, "/auth/login", { email: user.email, password: user.password })).status).toBe(200);
    const after = await env.DB.prepare("SELECT count FROM rate_limits WHERE key = ?")
      .bind(`acct:${user.email}`)
      .first();
    expect(after).toBeNull();
  });

  it("refresh: the presented token with its owner, then the rotation batch", async () => {
    const user = await createUser("member");
    const login = await post(env.DB, "/auth/login", { email: user.email, password: user.password });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const { db, counter } = countingD1(env.DB);
    const res = await post(db, "/auth/refresh", { refresh_token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { user: { id: string; email: string; role: string } };
    expect(body.user).toMatchObject({ id: user.id, email: user.email, role: "member" });
    expect(counter.trips).toBe(2);
  });

  it("the email and username checks are one query, and the email is named first", async () => {
    const first = await createUser("member");
    const second = await createUser("member");
    const { db, counter } = countingD1(env.DB);
    const free = {
      email: `free-${crypto.randomUUID()}@test.local`,
      username: `free-${crypto.randomUUID().slice(0, 8)}`,
    };
    await expect(assertAvailable(getDb(db), env, free)).resolves.toBeUndefined();
    expect(counter.trips).toBe(1);

    const error = await assertAvailable(getDb(env.DB), env, { email: first.email, username: second.username }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(409);
    expect((error as ApiError).options.errors).toEqual([{ path: "email", message: "email already taken" }]);

    // The username alone is still caught, and one's own row is no conflict.
    const byName = await assertAvailable(getDb(env.DB), env, { username: second.username }).catch((e: unknown) => e);
    expect((byName as ApiError).options.errors).toEqual([{ path: "username", message: "username already taken" }]);
    await expect(
      assertAvailable(getDb(env.DB), env, { email: first.email, username: first.username }, first.id),
    ).resolves.toBeUndefined();
  });

  it("GET /auth/me: one, the caller's own read by requireCaller", async () => {
    const user = await createUser("member");
    const { db, counter } = countingD1(env.DB);
    const res = await createApp().fetch(
      new Request("http://localhost/api/v1/auth/me", { headers: { authorization: `Bearer ${user.token}` } }),
      { ...env, DB: db },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, email: user.email, role: "member" });
    expect(counter.trips).toBe(1);
  });
});
