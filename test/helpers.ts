import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { hashPassword } from "../src/auth/passwords";
import { signAccessToken } from "../src/auth/tokens";
import { getDb } from "../src/db/client";
import { type Role, users } from "../src/db/schema";

export const BASE = "http://localhost";

/** A request to the Worker's real fetch handler (the same entry point wrangler serves). */
export function call(path: string, init: RequestInit & { token?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { ...init, headers, body }));
}

/** Same, under /api/v1. */
export function api(path: string, init: RequestInit & { token?: string; json?: unknown } = {}): Promise<Response> {
  return call(`/api/v1${path}`, init);
}

export type TestUser = { id: string; email: string; username: string; password: string; role: Role; token: string };

/**
 * Test users share one password unless a test names its own, so the (deliberately slow) scrypt hash is computed once
 * per test file instead of once per user. Production parameters are kept: nothing here weakens the hash.
 */
export const DEFAULT_TEST_PASSWORD = "correct horse battery staple";
let defaultHash: Promise<string> | undefined;
function passwordHashFor(password: string): Promise<string> {
  if (password !== DEFAULT_TEST_PASSWORD) return hashPassword(password);
  defaultHash ??= hashPassword(DEFAULT_TEST_PASSWORD);
  return defaultHash;
}

let counter = 0;
/** Inserts a user straight into D1 (unique email/username per call) and signs an access token for it. */
export async function createUser(
  role: Role = "member",
  overrides: Partial<Pick<TestUser, "email" | "username" | "password">> = {},
) {
  counter += 1;
  const tag = `${role}${counter}-${crypto.randomUUID().slice(0, 8)}`;
  const user = {
    id: crypto.randomUUID(),
    email: overrides.email ?? `${tag}@test.local`,
    username: overrides.username ?? tag,
    password: overrides.password ?? DEFAULT_TEST_PASSWORD,
    role,
  };
  const now = Date.now();
  await getDb(env.DB)
    .insert(users)
    .values({
      id: user.id,
      email: user.email.toLowerCase(),
      username: user.username,
      passwordHash: await passwordHashFor(user.password),
      role,
      // Test users stand for accounts an admin made: their address counts as verified.
      emailVerifiedAt: now,
      createdAt: now,
      updatedAt: now,
    });
  const token = await signAccessToken(env, user);
  return { ...user, token } satisfies TestUser;
}

/** Asserts an RFC 9457 problem+json answer with the given status and returns its body. */
export async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as {
    type: string;
    title: string;
    status: number;
    detail: string;
    errors?: { path: string; message: string }[];
    [key: string]: unknown;
  };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\/edge-backoffice\.dev\/problems\//);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  return body;
}

/**
 * Row counts of every table (or of the named ones), to prove a rejected write changed nothing. Name the tables when
 * the real queue consumers may be writing others in the background (processed ids, outbox status).
 */
export async function tableCounts(only?: string[]): Promise<Record<string, number>> {
  const names =
    only ??
    (
      await env.DB.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
      ).all<{ name: string }>()
    ).results.map((r) => r.name);
  const counts: Record<string, number> = {};
  for (const name of names) {
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM "${name}"`).first<{ n: number }>();
    counts[name] = row?.n ?? 0;
  }
  return counts;
}

/**
 * Same as api(), through the Worker's fetch entry point with some settings changed (`{ TASKS_MAX_PER_USER: "5" }`),
 * so a test reaches a limit with a few requests; waits for what the request left running (`waitUntil`).
 */
export async function apiWith(
  settings: Record<string, string>,
  path: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<Response> {
  const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
  const { default: worker } = await import("../src/index");
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    new Request(`${BASE}/api/v1${path}`, { ...init, headers, body }) as never,
    { ...env, ...settings } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}
