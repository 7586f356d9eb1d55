import { and, asc, count, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import { retireAccountTokens } from "../../auth/account-tokens";
import { assertAvailable, conflict, deletionStatements, toUser, uniqueViolation } from "../../auth/accounts";
import { assertPasswordAllowed } from "../../auth/password-policy";
import { hashPassword } from "../../auth/passwords";
import { limits, takeAttempt } from "../../auth/rate-limit";
import { revokeUserTokens } from "../../auth/refresh";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import type { Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { API_PREFIX } from "../../lib/openapi";
import { parseOrdering } from "../../lib/ordering";
import { page } from "../../lib/pagination";
import { forbiddenReason, type UserAction } from "./users.policy";
import type * as routes from "./users.routes";
import { USER_ORDERING } from "./users.schemas";

const orderColumns = { created_at: users.createdAt, email: users.email, username: users.username };

async function liveUser(db: Db, id: string) {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, id), isNull(users.deletedAt)))
    .limit(1);
  if (!row) throw new ApiError("not_found", "No user with that id.");
  return row;
}

function authorize(
  actor: Parameters<typeof forbiddenReason>[0],
  target: Parameters<typeof forbiddenReason>[1],
  action: UserAction,
) {
  const reason = forbiddenReason(actor, target, action);
  if (reason) throw new ApiError("forbidden", reason);
}

/** The unique indexes decide races the pre-checks cannot see; name the field that lost. */
async function mapConflicts<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    const field = uniqueViolation(error);
    if (field) throw conflict(field);
    throw error;
  }
}

export const list: Handler<typeof routes.list> = async (c) => {
  const { limit, offset, role, search, ordering } = c.req.valid("query");
  const order = parseOrdering(ordering, USER_ORDERING, { field: "created_at", direction: "desc" });
  const conditions: SQL[] = [isNull(users.deletedAt)];
  if (role) conditions.push(eq(users.role, role));
  if (search) {
    // A literal, case-insensitive substring at any length: instr() has no pattern syntax and no length limit (D1
    // refuses LIKE patterns over 50 bytes, which turned long searches into 503s).
    conditions.push(
      sql`(instr(lower(${users.email}), lower(${search})) > 0 OR instr(lower(${users.username}), lower(${search})) > 0)`,
    );
  }
  const where = and(...conditions);
  const { db } = c.var;
  const column = orderColumns[order.field];
  const [rows, [{ total }]] = await db.batch([
    db
      .select()
      .from(users)
      .where(where)
      .orderBy(order.direction === "asc" ? asc(column) : desc(column), asc(users.id))
      .limit(limit)
      .offset(offset),
    db.select({ total: count() }).from(users).where(where),
  ]);
  return c.json(page(rows.map(toUser), total, { limit, offset }), 200);
};

export const create: Handler<typeof routes.create> = async (c) => {
  const body = c.req.valid("json");
  const { db, caller } = c.var;
  authorize(caller, null, { kind: "create", role: body.role });
  const now = Date.now();
  await assertAvailable(db, c.env, body);
  // Per admin, not per address: admins are signed in and accountable, and an office shares one address.
  await takeAttempt(db, [limits.accountCreation(caller.id)], now, "Too many accounts created by you today");
  const row = {
    id: crypto.randomUUID(),
    email: body.email,
    username: body.username,
    passwordHash: await hashPassword(body.password),
    role: body.role,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    // The admin vouches for the address.
    emailVerifiedAt: now,
    tokenVersion: 0,
  };
  await mapConflicts(db.insert(users).values(row));
  c.header("Location", `${API_PREFIX}/users/${row.id}`);
  return c.json(toUser(row), 201);
};

export const get: Handler<typeof routes.get> = async (c) => {
  const row = await liveUser(c.var.db, c.req.valid("param").id);
  return c.json(toUser(row), 200);
};

export const update: Handler<typeof routes.update> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const { db } = c.var;
  const target = await liveUser(db, id);
  authorize(c.var.caller, target, { kind: "update", role: body.role });

  assertPasswordAllowed(body.password, target);
  await assertAvailable(
    db,
    c.env,
    {
      email: body.email !== target.email ? body.email : undefined,
      username: body.username !== target.username ? body.username : undefined,
    },
    id,
  );
  const now = Date.now();
  const emailChanged = body.email !== undefined && body.email !== target.email;
  const changes = {
    ...(body.email !== undefined && { email: body.email }),
    ...(body.username !== undefined && { username: body.username }),
    ...(body.role !== undefined && { role: body.role }),
    ...(body.password !== undefined && { passwordHash: await hashPassword(body.password) }),
    // An address an admin sets is vouched for, like one on an account an admin creates.
    ...(emailChanged && { emailVerifiedAt: now }),
    updatedAt: now,
  };
  // A role change or a new password ends every access token issued before: the version only goes up, so changing
  // the role back later does not revive them.
  const endTokens = (body.role !== undefined && body.role !== target.role) || body.password !== undefined;
  const write = db
    .update(users)
    .set(endTokens ? { ...changes, tokenVersion: sql`${users.tokenVersion} + 1` } : changes)
    .where(and(eq(users.id, id), isNull(users.deletedAt)));
  // A new password ends every session of the user in the same batch; a new address retires mailed tokens.
  const extra = [
    ...(body.password ? [revokeUserTokens(db, id)] : []),
    ...(emailChanged ? [retireAccountTokens(db, id)] : []),
  ];
  await mapConflicts(db.batch([write, ...extra]));
  return c.json(toUser({ ...target, ...changes }), 200);
};

export const remove: Handler<typeof routes.remove> = async (c) => {
  const { id } = c.req.valid("param");
  const { db } = c.var;
  const target = await liveUser(db, id);
  authorize(c.var.caller, target, { kind: "delete" });
  await db.batch([...deletionStatements(db, id, Date.now())]);
  return c.body(null, 204);
};
