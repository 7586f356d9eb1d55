import type { SQL } from "drizzle-orm";

/**
 * The mail types that enqueue.ts, budget.ts and templates.ts share. They live here, imported by all three, so that
 * no two of those modules import each other (scripts/import-cycles.mjs).
 */

export type Recipient = { email: string; name?: string | null };
/** What a mail is about, e.g. { type: "task", id } or { type: "product", id: sku }. */
export type Entity = { type: string; id: string };
export type MailMessage =
  | { kind: "task.expiring"; task: { id: string; title: string; expiresAt: number } }
  | { kind: "task.expired"; task: { id: string; title: string; expiresAt: number } }
  | {
      kind: "product.changed";
      action: "create" | "update" | "delete";
      actor: { id: string; username: string };
      product: { sku: string; name: string; brand: string; price: string };
      changes: Record<string, { from: unknown; to: unknown }>;
    }
  /** `link` carries the token in its fragment (or the WITHHELD placeholder the consumer replaces, src/mail/seal.ts). */
  | { kind: "account.verify-email"; link: string; expiresAt: number }
  | { kind: "account.password-reset"; link: string; expiresAt: number };
export type MailKind = MailMessage["kind"];

/**
 * What an outbox row is written as before the unverified-address rule: `queued`, or whatever the mail budgets
 * decide in SQL (see ./budget.ts).
 */
export type OutboxDecision = { status: "queued" | "suppressed" | SQL; suppressedReason: string | null | SQL };
