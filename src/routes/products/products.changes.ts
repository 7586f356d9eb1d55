import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { insertSelect } from "../../db/insert-select";
import { productHistory } from "../../db/schema";
import type { WritePlan } from "../../db/write-plan";
import type { AuthUser } from "../../env";
import { centsToPrice, formatCents } from "../../lib/money";
import { mailStatements } from "../../mail/enqueue";
import type { ProductRow } from "./products.queries";

export type Action = "create" | "update" | "delete";
/** The fields an admin writes; what history records and mails describe. */
export type Editable = { name: string; brand: string; priceCents: number };
type Change = { from: unknown; to: unknown };

/**
 * Field-by-field changes between two states (null = did not exist), prices in cents. A create lists every field
 * from null, a delete every field to null, an update only the fields whose value differs.
 */
export function diffProduct(
  before: Editable | null,
  after: Editable | null,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: number | string | null; to: number | string | null }> = {};
  const keys = [
    ["name", "name"],
    ["brand", "brand"],
    ["price", "priceCents"],
  ] as const;
  for (const [field, key] of keys) {
    const from = before ? before[key] : null;
    const to = after ? after[key] : null;
    if (from !== to) changes[field] = { from, to };
  }
  return changes;
}

/** Prices in a change set as the API shows them (12.5) or as people read them ("12.50"). */
function renderPrices(changes: Record<string, Change>, render: (cents: number) => unknown): Record<string, Change> {
  const price = changes.price;
  if (!price) return changes;
  const one = (value: unknown) => (typeof value === "number" ? render(value) : value);
  return { ...changes, price: { from: one(price.from), to: one(price.to) } };
}

export type ChangeRecord = WritePlan & { historyId: string };

/**
 * The history row and the notice mails of one change, as statements for the caller's db.batch() (the change, its
 * record and its mails commit together), plus the queue messages to send after the commit.
 *
 * With `afterGuardedWrite`, the statements guard themselves: they follow an UPDATE or DELETE that matched only the
 * row as it was read, the history row is written only when that statement changed a row (`changes() = 1`), and each
 * mail only when this history row exists. A lost race then writes nothing at all, and the caller tells it from the
 * write's RETURNING, without any error to interpret.
 */
export function changeRecord(
  db: Db,
  env: Env,
  actor: Pick<AuthUser, "id" | "username">,
  action: Action,
  product: ProductRow | (Editable & { sku: string }),
  changes: Record<string, Change>,
  now: number,
  recipients: { email: string; name: string }[],
  afterGuardedWrite: boolean,
): ChangeRecord {
  const historyId = crypto.randomUUID();
  // After a guarded write (an UPDATE or DELETE that may have matched nothing), the history row is written only if
  // that write changed a row, and each mail only if the history row was written: a lost race records nothing.
  const recorded = sql`EXISTS (SELECT 1 FROM ${productHistory} WHERE ${productHistory.id} = ${historyId})`;
  const mail = mailStatements(
    db,
    env,
    recipients,
    {
      kind: "product.changed",
      action,
      actor: { id: actor.id, username: actor.username },
      product: { sku: product.sku, name: product.name, brand: product.brand, price: formatCents(product.priceCents) },
      changes: renderPrices(changes, formatCents),
    },
    { type: "product", id: product.sku },
    now,
    { actorId: actor.id, guard: afterGuardedWrite ? recorded : undefined },
  );
  const history = {
    id: historyId,
    sku: product.sku,
    action,
    actorId: actor.id,
    changes: renderPrices(changes, centsToPrice),
    createdAt: now,
  };
  return {
    historyId,
    statements: [
      afterGuardedWrite
        ? insertSelect(db, productHistory, history, { where: sql`changes() = 1` })
        : db.insert(productHistory).values(history),
      ...mail.statements,
    ],
    queueMessages: mail.queueMessages,
  };
}
