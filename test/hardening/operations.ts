import { env } from "cloudflare:workers";
import { generateOpaqueToken, sha256Hex } from "../../src/auth/tokens";
import { call, callWith, type TestUser } from "../helpers";
import {
  type Callers,
  type CursorSessionFixture,
  cursorEvents,
  makeCallers,
  makeCursorSession,
  makeNotification,
  makeOutboxRow,
  makeProduct,
  makeTask,
  makeUser,
  SHARED_PASSWORD,
} from "./support";

/**
 * THE authorization matrix: for every operation of /openapi.json, the status each caller gets for a well-formed
 * request. `member` is the owner of whatever the operation touches (the task's creator, the notification's
 * recipient); `other` is a second member who owns nothing. Cursor-session operations also list what the holder of
 * that session's token (`own`) and of another session's token (`foreign`) get.
 *
 * A new route that is not listed here fails authorization-matrix.test.ts; so does a row whose route is gone.
 */
export const CALLERS = ["anonymous", "member", "other", "admin", "superuser"] as const;
export type Caller = (typeof CALLERS)[number];
export type SessionCaller = "own" | "foreign";

export type World = Callers & {
  task: { id: string };
  product: { sku: string };
  notification: { id: string };
  outbox: { id: string };
  session: CursorSessionFixture;
  otherSession: CursorSessionFixture;
};

export async function makeWorld(): Promise<World> {
  const callers = await makeCallers();
  const [task, product, notification, outbox, session, otherSession] = await Promise.all([
    makeTask(callers.member),
    makeProduct(callers.admin),
    makeNotification(callers.member),
    makeOutboxRow(),
    makeCursorSession(),
    makeCursorSession(),
  ]);
  return { ...callers, task, product, notification, outbox, session, otherSession };
}

export type Built = {
  path: string;
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** The cursor session this request acts on (its token is the `own` caller). */
  session?: CursorSessionFixture;
  /** Callers of their own for this request (an operation that ends the caller's tokens must not end the world's). */
  callers?: Callers;
  /** Settings of this request's deployment, over the test env (the console's routes need a PUBLIC_ORIGIN). */
  env?: Partial<Record<keyof Env, string>>;
};

export type MatrixRow = {
  /** anonymous, member (owner), other member, admin, superuser */
  expect: [number, number, number, number, number];
  session?: Record<SessionCaller, number>;
  /** Builds a fresh, well-formed request; called once per cell so a delete in one cell cannot starve the next. */
  build: (w: World) => Promise<Built> | Built;
};

const unique = () => crypto.randomUUID().slice(0, 8);

/** A mailed account token (verification or reset) for a fresh user, as if the mail had been read. */
async function accountTokenFor(purpose: "verify_email" | "password_reset"): Promise<string> {
  const user = await makeUser("member");
  const token = generateOpaqueToken();
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO account_tokens (id, user_id, purpose, email, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(crypto.randomUUID(), user.id, purpose, user.email, await sha256Hex(token), now, now + 600_000)
    .run();
  return token;
}

/** Fresh callers whose addresses are not verified yet. */
async function unverifiedCallers(): Promise<Callers> {
  const callers = await makeCallers();
  await env.DB.prepare(
    `UPDATE users SET email_verified_at = NULL WHERE id IN (${Object.values(callers)
      .map(() => "?")
      .join(", ")})`,
  )
    .bind(...Object.values(callers).map((c) => c.id))
    .run();
  return callers;
}

async function refreshTokenFor(user: TestUser): Promise<string> {
  const token = generateOpaqueToken();
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(id, user.id, id, await sha256Hex(token), now, now + 86_400_000)
    .run();
  return token;
}

/** The deployment origin the console's requests come from in these tests. */
export const CONSOLE_ORIGIN = "http://localhost";

/** A request of the console: its header and Origin, on a deployment whose PUBLIC_ORIGIN is that origin. */
function consoleRequest(path: string, method: string, refreshToken?: string): Built {
  return {
    path,
    method,
    headers: {
      "x-console": "1",
      origin: CONSOLE_ORIGIN,
      ...(refreshToken ? { cookie: `__Host-refresh=${refreshToken}` } : {}),
    },
    env: { PUBLIC_ORIGIN: CONSOLE_ORIGIN },
  };
}

const ALL_200: MatrixRow["expect"] = [200, 200, 200, 200, 200];
const SIGNED_IN_200: MatrixRow["expect"] = [401, 200, 200, 200, 200];
const ADMIN_200: MatrixRow["expect"] = [401, 403, 403, 200, 200];
const OWNER_200: MatrixRow["expect"] = [401, 200, 403, 200, 200];
const OWNER_204: MatrixRow["expect"] = [401, 204, 403, 204, 204];
const ADMIN_201: MatrixRow["expect"] = [401, 403, 403, 201, 201];
const ADMIN_204: MatrixRow["expect"] = [401, 403, 403, 204, 204];
const SESSION_READ = { own: 200, foreign: 403 };

export const MATRIX: Record<string, MatrixRow> = {
  "GET /health": { expect: ALL_200, build: () => ({ path: "/health" }) },
  "GET /health/live": { expect: ALL_200, build: () => ({ path: "/health/live" }) },

  "POST /api/v1/auth/register": {
    expect: [201, 201, 201, 201, 201],
    build: () => ({
      path: "/api/v1/auth/register",
      method: "POST",
      json: { email: `reg-${unique()}@test.local`, password: "a long enough password" },
    }),
  },
  "POST /api/v1/auth/login": {
    expect: ALL_200,
    build: async () => {
      const user = await makeUser("member");
      return { path: "/api/v1/auth/login", method: "POST", json: { email: user.email, password: SHARED_PASSWORD } };
    },
  },
  "POST /api/v1/auth/refresh": {
    expect: ALL_200,
    build: async (w) => ({
      path: "/api/v1/auth/refresh",
      method: "POST",
      json: { refresh_token: await refreshTokenFor(w.member) },
    }),
  },
  "POST /api/v1/auth/logout": {
    expect: [204, 204, 204, 204, 204],
    build: async (w) => ({
      path: "/api/v1/auth/logout",
      method: "POST",
      json: { refresh_token: await refreshTokenFor(w.member) },
    }),
  },
  "GET /api/v1/auth/me": { expect: SIGNED_IN_200, build: () => ({ path: "/api/v1/auth/me" }) },
  "POST /api/v1/auth/verify-email": {
    expect: [204, 204, 204, 204, 204],
    build: async () => ({
      path: "/api/v1/auth/verify-email",
      method: "POST",
      json: { token: await accountTokenFor("verify_email") },
    }),
  },
  "POST /api/v1/auth/verify-email/resend": {
    expect: [401, 202, 202, 202, 202],
    build: async () => ({
      path: "/api/v1/auth/verify-email/resend",
      method: "POST",
      callers: await unverifiedCallers(),
    }),
  },
  "POST /api/v1/auth/password/forgot": {
    expect: [202, 202, 202, 202, 202],
    build: async () => ({
      path: "/api/v1/auth/password/forgot",
      method: "POST",
      json: { email: (await makeUser("member")).email },
    }),
  },
  "POST /api/v1/auth/password/reset": {
    expect: [204, 204, 204, 204, 204],
    build: async () => ({
      path: "/api/v1/auth/password/reset",
      method: "POST",
      json: { token: await accountTokenFor("password_reset"), password: "a brand new password" },
    }),
  },
  "POST /api/v1/auth/password/change": {
    expect: SIGNED_IN_200,
    build: async () => ({
      path: "/api/v1/auth/password/change",
      method: "POST",
      json: { current_password: SHARED_PASSWORD, new_password: "a brand new password" },
      callers: await makeCallers(),
    }),
  },
  "POST /api/v1/auth/logout-all": {
    expect: [401, 204, 204, 204, 204],
    build: async () => ({ path: "/api/v1/auth/logout-all", method: "POST", callers: await makeCallers() }),
  },

  "GET /api/v1/auth/config": { expect: ALL_200, build: () => ({ path: "/api/v1/auth/config" }) },
  "POST /api/v1/auth/session": {
    expect: ALL_200,
    build: async () => ({
      ...consoleRequest("/api/v1/auth/session", "POST"),
      json: { email: (await makeUser("member")).email, password: SHARED_PASSWORD },
    }),
  },
  "POST /api/v1/auth/session/register": {
    expect: [201, 201, 201, 201, 201],
    build: () => ({
      ...consoleRequest("/api/v1/auth/session/register", "POST"),
      json: { email: `creg-${unique()}@test.local`, password: "a long enough password" },
    }),
  },
  "POST /api/v1/auth/session/refresh": {
    expect: ALL_200,
    build: async (w) => consoleRequest("/api/v1/auth/session/refresh", "POST", await refreshTokenFor(w.member)),
  },
  "DELETE /api/v1/auth/session": {
    expect: [204, 204, 204, 204, 204],
    build: async (w) => consoleRequest("/api/v1/auth/session", "DELETE", await refreshTokenFor(w.member)),
  },

  "GET /api/v1/users": { expect: ADMIN_200, build: () => ({ path: "/api/v1/users" }) },
  "POST /api/v1/users": {
    expect: ADMIN_201,
    build: () => ({
      path: "/api/v1/users",
      method: "POST",
      json: { email: `new-${unique()}@test.local`, username: `new-${unique()}`, password: "a long enough password" },
    }),
  },
  "GET /api/v1/users/{id}": { expect: ADMIN_200, build: (w) => ({ path: `/api/v1/users/${w.other.id}` }) },
  "PATCH /api/v1/users/{id}": {
    expect: ADMIN_200,
    build: async () => ({
      path: `/api/v1/users/${(await makeUser("member")).id}`,
      method: "PATCH",
      json: { username: `renamed-${unique()}` },
    }),
  },
  "DELETE /api/v1/users/{id}": {
    expect: ADMIN_204,
    build: async () => ({ path: `/api/v1/users/${(await makeUser("member")).id}`, method: "DELETE" }),
  },

  "GET /api/v1/tasks": { expect: SIGNED_IN_200, build: () => ({ path: "/api/v1/tasks" }) },
  "POST /api/v1/tasks": {
    expect: [401, 201, 201, 201, 201],
    build: () => ({ path: "/api/v1/tasks", method: "POST", json: { title: "matrix task" } }),
  },
  "PUT /api/v1/tasks": {
    expect: OWNER_200,
    build: async (w) => ({
      path: "/api/v1/tasks",
      method: "PUT",
      json: { tasks: [{ id: (await makeTask(w.member)).id, title: "renamed in bulk" }] },
    }),
  },
  "DELETE /api/v1/tasks": {
    expect: OWNER_204,
    build: async (w) => ({ path: "/api/v1/tasks", method: "DELETE", json: { ids: [(await makeTask(w.member)).id] } }),
  },
  "GET /api/v1/tasks/export": { expect: SIGNED_IN_200, build: () => ({ path: "/api/v1/tasks/export" }) },
  "GET /api/v1/tasks/{id}": { expect: SIGNED_IN_200, build: (w) => ({ path: `/api/v1/tasks/${w.task.id}` }) },
  "PUT /api/v1/tasks/{id}": {
    expect: OWNER_200,
    build: async (w) => ({
      path: `/api/v1/tasks/${(await makeTask(w.member)).id}`,
      method: "PUT",
      json: { title: "replaced", description: "all fields", status: "in_progress", expires_at: null },
    }),
  },
  "PATCH /api/v1/tasks/{id}": {
    expect: OWNER_200,
    build: async (w) => ({
      path: `/api/v1/tasks/${(await makeTask(w.member)).id}`,
      method: "PATCH",
      json: { title: "patched" },
    }),
  },
  "DELETE /api/v1/tasks/{id}": {
    expect: OWNER_204,
    build: async (w) => ({ path: `/api/v1/tasks/${(await makeTask(w.member)).id}`, method: "DELETE" }),
  },

  "GET /api/v1/notifications": { expect: SIGNED_IN_200, build: () => ({ path: "/api/v1/notifications" }) },
  // Someone else's notification answers like a missing one (404), for admins too: notifications are private.
  "POST /api/v1/notifications/{id}/read": {
    expect: [401, 200, 404, 404, 404],
    build: (w) => ({ path: `/api/v1/notifications/${w.notification.id}/read`, method: "POST" }),
  },

  "GET /api/v1/admin/outbox": { expect: ADMIN_200, build: () => ({ path: "/api/v1/admin/outbox" }) },
  "GET /api/v1/admin/outbox/{id}": {
    expect: ADMIN_200,
    build: (w) => ({ path: `/api/v1/admin/outbox/${w.outbox.id}` }),
  },

  "GET /api/v1/products": { expect: ALL_200, build: () => ({ path: "/api/v1/products" }) },
  // The catalog is public, so is its export (limited per caller: test/routes/products/export.test.ts).
  "GET /api/v1/products/export": { expect: ALL_200, build: () => ({ path: "/api/v1/products/export" }) },
  "POST /api/v1/products": {
    expect: ADMIN_201,
    build: () => ({
      path: "/api/v1/products",
      method: "POST",
      json: { name: `Matrix ${unique()}`, brand: "Acme", price: 3.5 },
    }),
  },
  "GET /api/v1/products/{sku}/history": {
    expect: ADMIN_200,
    build: (w) => ({ path: `/api/v1/products/${w.product.sku}/history` }),
  },
  "GET /api/v1/products/{sku}": { expect: ALL_200, build: (w) => ({ path: `/api/v1/products/${w.product.sku}` }) },
  "PUT /api/v1/products/{sku}": {
    expect: ADMIN_200,
    build: async (w) => ({
      path: `/api/v1/products/${(await makeProduct(w.admin)).sku}`,
      method: "PUT",
      json: { name: "Replaced lamp", brand: "Acme", price: 14 },
    }),
  },
  "PATCH /api/v1/products/{sku}": {
    expect: ADMIN_200,
    build: async (w) => ({
      path: `/api/v1/products/${(await makeProduct(w.admin)).sku}`,
      method: "PATCH",
      json: { price: 15.25 },
    }),
  },
  "DELETE /api/v1/products/{sku}": {
    expect: ADMIN_204,
    build: async (w) => ({ path: `/api/v1/products/${(await makeProduct(w.admin)).sku}`, method: "DELETE" }),
  },

  "GET /api/v1/reports/product-views": { expect: ADMIN_200, build: () => ({ path: "/api/v1/reports/product-views" }) },
  "GET /api/v1/reports/product-views/{sku}": {
    expect: ADMIN_200,
    build: (w) => ({ path: `/api/v1/reports/product-views/${w.product.sku}` }),
  },

  "POST /api/v1/cursor/sessions": {
    expect: [201, 201, 201, 201, 201],
    build: () => ({ path: "/api/v1/cursor/sessions", method: "POST", json: { viewport: { width: 10, height: 10 } } }),
  },
  "GET /api/v1/cursor/sessions": { expect: ADMIN_200, build: () => ({ path: "/api/v1/cursor/sessions" }) },
  // Only the page holding the session token may post events; not even an admin can write into someone's session.
  "POST /api/v1/cursor/sessions/{id}/events": {
    expect: [401, 403, 403, 403, 403],
    session: { own: 202, foreign: 403 },
    build: async () => {
      const session = await makeCursorSession();
      return {
        path: `/api/v1/cursor/sessions/${session.id}/events`,
        method: "POST",
        json: { events: cursorEvents() },
        session,
      };
    },
  },
  "GET /api/v1/cursor/sessions/{id}/events": {
    expect: ADMIN_200,
    session: SESSION_READ,
    build: (w) => ({ path: `/api/v1/cursor/sessions/${w.session.id}/events`, session: w.session }),
  },
  "GET /api/v1/cursor/sessions/{id}/live": {
    expect: [401, 403, 403, 101, 101],
    session: { own: 101, foreign: 403 },
    build: (w) => ({
      path: `/api/v1/cursor/sessions/${w.session.id}/live`,
      headers: { Upgrade: "websocket" },
      session: w.session,
    }),
  },
  "GET /api/v1/cursor/sessions/{id}": {
    expect: ADMIN_200,
    build: (w) => ({ path: `/api/v1/cursor/sessions/${w.session.id}` }),
  },
  "GET /api/v1/cursor/sessions/{id}/stats": {
    expect: ADMIN_200,
    session: SESSION_READ,
    build: (w) => ({ path: `/api/v1/cursor/sessions/${w.session.id}/stats`, session: w.session }),
  },
  "GET /api/v1/cursor/archives": {
    expect: ADMIN_200,
    build: () => ({ path: "/api/v1/cursor/archives" }),
  },
  // An ended session's archive (written to R2 at the end); admins only, a session token is no admin.
  "GET /api/v1/cursor/sessions/{id}/archive": {
    expect: ADMIN_200,
    build: async () => {
      const session = await makeCursorSession();
      const ended = await call(`/api/v1/cursor/sessions/${session.id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${session.token}` },
      });
      if (ended.status !== 204) throw new Error(`could not end the session: ${ended.status}`);
      return { path: `/api/v1/cursor/sessions/${session.id}/archive` };
    },
  },
  "DELETE /api/v1/cursor/sessions/{id}": {
    expect: ADMIN_204,
    session: { own: 204, foreign: 403 },
    build: async () => {
      const session = await makeCursorSession();
      return { path: `/api/v1/cursor/sessions/${session.id}`, method: "DELETE", session };
    },
  },
};

/** The bearer token a caller presents, if any. */
export function tokenOf(w: World, built: Built, caller: Caller | SessionCaller): string | undefined {
  switch (caller) {
    case "anonymous":
      return undefined;
    case "own":
      return built.session?.token;
    case "foreign":
      return w.otherSession.token;
    default:
      return (built.callers ?? w)[caller].token;
  }
}

/** Sends a built request as the caller; a WebSocket that opened is accepted and closed at once. */
export async function send(built: Built, token: string | undefined): Promise<Response> {
  const init = { method: built.method ?? "GET", headers: built.headers, json: built.json, token };
  const res = built.env
    ? await callWith({ ...env, ...built.env } as Env, built.path, init)
    : await call(built.path, init);
  if (res.webSocket) {
    res.webSocket.accept();
    res.webSocket.close(1000, "done");
  }
  return res;
}
