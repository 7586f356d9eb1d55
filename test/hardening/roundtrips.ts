/**
 * D1 round trips per operation: what each makes for the caller named (a statement or a batch is one). The test
 * roundtrips.test.ts measures every row from the response's Server-Timing; `npm run docs:roundtrips` writes this
 * table into docs/roundtrips.md. Plain data, so the script can read it without the app.
 *
 * `trips: null` = not measurable from the response (a WebSocket upgrade). `why` explains a row above the targets
 * (signed-in reads 1, writes 2).
 */
export type RoundTripRow = { caller: string; trips: number | null; why?: string };

/** Rows said once because two operations share them (a console route and its Bearer twin, the two CSV exports). */
const REGISTER: RoundTripRow = {
  caller: "member",
  trips: 4,
  why: "the email/username check, the sign-up limits (this client's and everyone's) counted atomically, a free username, then the account's batch (user, refresh family, verification token and mail)",
};
const LOGIN: RoundTripRow = {
  caller: "member",
  trips: 3,
  why: "the account (whose device tokens may pick the counter), the attempt counted before the password is checked, then one batch (accounts)",
};
const REFRESH: RoundTripRow = { caller: "member", trips: 2 };
const LOGOUT: RoundTripRow = { caller: "member", trips: 1 };
const CSV_EXPORT: RoundTripRow = {
  caller: "member",
  trips: 2,
  why: "the count (with the caller check), then the export counted against the caller's allowance (a write); the rows stream page by page after the headers, so Server-Timing cannot count them",
};

/** A console route's row: its Bearer twin's, whose reason it gives by name. */
function consoleTwin(twin: string, row: RoundTripRow): RoundTripRow {
  return row.why ? { ...row, why: `as ${twin}: ${row.why}` } : row;
}

export const ROUND_TRIPS: Record<string, RoundTripRow> = {
  "GET /health": { caller: "member", trips: 1 },
  "GET /health/live": { caller: "member", trips: 0 },
  "POST /api/v1/auth/register": REGISTER,
  "POST /api/v1/auth/login": LOGIN,
  "POST /api/v1/auth/refresh": REFRESH,
  "POST /api/v1/auth/logout": LOGOUT,
  "GET /api/v1/auth/me": { caller: "member", trips: 1 },
  "POST /api/v1/auth/verify-email": { caller: "member", trips: 2 },
  "POST /api/v1/auth/verify-email/resend": {
    caller: "member",
    trips: 3,
    why: "the caller check, the owner's own resend budget counted atomically before any work, then the token and its mail in one batch",
  },
  "POST /api/v1/auth/password/forgot": { caller: "member", trips: 1 },
  "POST /api/v1/auth/password/reset": {
    caller: "member",
    trips: 3,
    why: "the token is looked at before the new password is hashed, claimed atomically after (a refused password leaves it usable), then one batch",
  },
  "POST /api/v1/auth/password/change": {
    caller: "member",
    trips: 4,
    why: "the caller check, the attempt counted before the current password is checked, the password hash read, then one batch",
  },
  "POST /api/v1/auth/logout-all": { caller: "member", trips: 2 },
  "GET /api/v1/auth/config": { caller: "member", trips: 0 },
  // The console's routes run their Bearer twins' account logic and answer in cookies: the same round trips.
  "POST /api/v1/auth/session": consoleTwin("POST /auth/login", LOGIN),
  "POST /api/v1/auth/session/register": consoleTwin("POST /auth/register", REGISTER),
  "POST /api/v1/auth/session/refresh": REFRESH,
  "DELETE /api/v1/auth/session": LOGOUT,
  "GET /api/v1/users": { caller: "admin", trips: 1 },
  "POST /api/v1/users": {
    caller: "admin",
    trips: 3,
    why: "the caller check with the availability check, the admin's daily creation limit counted atomically, then the write",
  },
  "GET /api/v1/users/{id}": { caller: "admin", trips: 1 },
  "PATCH /api/v1/users/{id}": {
    caller: "admin",
    trips: 3,
    why: "the target (with the caller check), the email/username availability check (its own read in src/auth/accounts.ts), then the write",
  },
  "DELETE /api/v1/users/{id}": { caller: "admin", trips: 2 },
  "GET /api/v1/tasks": { caller: "member", trips: 1 },
  "POST /api/v1/tasks": { caller: "member", trips: 2 },
  "PUT /api/v1/tasks": { caller: "member", trips: 2 },
  "DELETE /api/v1/tasks": { caller: "member", trips: 2 },
  "GET /api/v1/tasks/export": CSV_EXPORT,
  "GET /api/v1/tasks/{id}": { caller: "member", trips: 1 },
  "PUT /api/v1/tasks/{id}": { caller: "member", trips: 2 },
  "PATCH /api/v1/tasks/{id}": { caller: "member", trips: 2 },
  "DELETE /api/v1/tasks/{id}": { caller: "member", trips: 2 },
  "GET /api/v1/notifications": { caller: "member", trips: 1 },
  "POST /api/v1/notifications/{id}/read": { caller: "member", trips: 2 },
  "GET /api/v1/admin/outbox": { caller: "admin", trips: 1 },
  "GET /api/v1/admin/outbox/{id}": { caller: "admin", trips: 1 },
  "GET /api/v1/products": { caller: "member", trips: 1 },
  "GET /api/v1/products/export": CSV_EXPORT,
  "POST /api/v1/products": { caller: "admin", trips: 2 },
  "GET /api/v1/products/{sku}/history": { caller: "admin", trips: 1 },
  "GET /api/v1/products/{sku}": { caller: "member", trips: 1 },
  "PUT /api/v1/products/{sku}": { caller: "admin", trips: 2 },
  "PATCH /api/v1/products/{sku}": { caller: "admin", trips: 2 },
  "DELETE /api/v1/products/{sku}": { caller: "admin", trips: 2 },
  "GET /api/v1/reports/product-views": { caller: "admin", trips: 1 },
  "GET /api/v1/reports/product-views/{sku}": { caller: "admin", trips: 1 },
  "POST /api/v1/cursor/sessions": { caller: "member", trips: 1 },
  "GET /api/v1/cursor/sessions": {
    caller: "admin",
    trips: 2,
    why: "the page and the total are two statements: sessions keep no counter row (an admin-only list)",
  },
  "POST /api/v1/cursor/sessions/{id}/events": { caller: "own", trips: 0 },
  "GET /api/v1/cursor/sessions/{id}": { caller: "admin", trips: 1 },
  "GET /api/v1/cursor/sessions/{id}/events": { caller: "admin", trips: 1 },
  "GET /api/v1/cursor/sessions/{id}/live": {
    caller: "admin",
    trips: null,
    why: "a WebSocket upgrade: the 101 carries no Server-Timing",
  },
  "GET /api/v1/cursor/sessions/{id}/stats": { caller: "admin", trips: 1 },
  "DELETE /api/v1/cursor/sessions/{id}": { caller: "admin", trips: 2 },
  "GET /api/v1/cursor/sessions/{id}/archive": { caller: "admin", trips: 1 },
  "GET /api/v1/cursor/archives": { caller: "admin", trips: 1 },
};
