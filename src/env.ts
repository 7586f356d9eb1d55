import type { RouteConfig, RouteConfigToEnv, RouteHandler } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Db, RequestD1 } from "./db/client";
import type { Role } from "./db/schema";

/** The signed-in caller's user row, as the caller check read it (so deletes and role changes apply at once). */
export type AuthUser = {
  id: string;
  email: string;
  username: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  emailVerifiedAt: number | null;
  tokenVersion: number;
};

/**
 * The caller as their verified access token names them: id and role are known before the caller check runs (it
 * compares both with the user row, and fails the request before any row of it is handed out); the checked row is
 * `row()`, at once when the check already rode along with a read, after a read of its own otherwise.
 */
export type Caller = Readonly<{ id: string; role: Role; row: () => Promise<AuthUser> }>;

/**
 * Every per-request service, set once by `requestContext` (src/middleware/edge.ts) and read by name (`c.var.db`):
 *
 * - `requestId`: the request's id (X-Request-Id);
 * - `db`: drizzle over the request's D1 session (`d1`), the database every handler uses;
 * - `d1`: that session: Sessions API reads at least as fresh as the client's bookmark, metered for Server-Timing,
 *   carrying the caller check until the first read takes it along;
 * - `caller`: set by the route's requireCaller or optionalCaller (src/auth/require-auth.ts), typed by them for the
 *   handler (see {@link Handler}): `Caller` behind requireCaller, `Caller | undefined` behind optionalCaller.
 */
export type RequestVariables = RequestIdVariables & {
  db: Db;
  d1: RequestD1;
  caller?: Caller;
};

export type AppEnv = { Bindings: Env; Variables: RequestVariables };

/** What requireCaller (and requireRole after it) adds for the handler: the caller, always. */
export type SignedInEnv = { Variables: { caller: Caller } };

/** What optionalCaller adds: the caller when a token was presented, undefined for an anonymous one. */
export type OptionalCallerEnv = { Variables: { caller?: Caller } };

/**
 * A handler typed from its route, with what the route's middleware sets: `c.var.caller` is a `Caller` behind
 * requireCaller, `Caller | undefined` behind optionalCaller, and absent from the type where no middleware signs in.
 */
export type Handler<R extends RouteConfig> = RouteHandler<R, AppEnv & RouteConfigToEnv<R>>;
