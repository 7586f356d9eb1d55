import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Times are integer epoch milliseconds; ids are UUIDs; money is integer cents.
const createdAt = () => integer("created_at").notNull();
const updatedAt = () => integer("updated_at").notNull();

export const ROLES = ["superuser", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

/** Accounts. Email is stored lower-cased; a deleted user keeps its row (tasks stay attributed) with deleted_at set. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("member"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: integer("deleted_at"),
    /** When the address was proven (mailed token or password reset) or vouched for (admin-created); null: unverified. */
    emailVerifiedAt: integer("email_verified_at"),
    /**
     * Carried in every access token (`ver`) and compared on each signed-in request. Only ever increased (password
     * reset or change, logout-all, role change, deletion), so no later change can bring an older token back.
     */
    tokenVersion: integer("token_version").notNull().default(0),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    uniqueIndex("users_username_unique").on(t.username),
    index("users_role_idx").on(t.role),
  ],
);

/** Opaque refresh tokens, stored only as SHA-256 hashes; rotation links parent to child within one family. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    familyId: text("family_id").notNull(),
    parentId: text("parent_id"),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.familyId),
    index("refresh_tokens_user_idx").on(t.userId),
    // The daily prune deletes expired rows a page at a time (src/auth/retention.ts).
    index("refresh_tokens_expires_at_idx").on(t.expiresAt),
  ],
);

export const ACCOUNT_TOKEN_PURPOSES = ["verify_email", "password_reset"] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * Single-use mailed tokens (email verification, password reset), stored only as SHA-256 hashes. `email` is the
 * address the token was sent to: a token stops working when the account's address has changed since.
 */
export const accountTokens = sqliteTable(
  "account_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    purpose: text("purpose", { enum: ACCOUNT_TOKEN_PURPOSES }).notNull(),
    email: text("email").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [
    uniqueIndex("account_tokens_hash_unique").on(t.tokenHash),
    index("account_tokens_user_idx").on(t.userId, t.purpose),
    index("account_tokens_expires_at_idx").on(t.expiresAt),
  ],
);

/** Fixed-window counters (src/auth/rate-limit.ts builds every key), e.g. `acct:<email>` or `ip:<client>`. */
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  // Idle rows are pruned oldest window first, a bounded page at a time, without scanning the live ones.
  (t) => [index("rate_limits_window_start_idx").on(t.windowStart)],
);

export const TASK_STATUSES = ["todo", "in_progress", "done"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The shared task wall. notified_for holds the expires_at value a notice was sent for (re-armed when it differs). */
export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    status: text("status", { enum: TASK_STATUSES }).notNull().default("todo"),
    expiresAt: integer("expires_at"),
    notifiedFor: integer("notified_for"),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // (created_at, id) serves an unfiltered page and its tie-break without sorting the table.
    index("tasks_created_at_id_idx").on(t.createdAt, t.id),
    index("tasks_updated_at_idx").on(t.updatedAt),
    index("tasks_status_created_at_idx").on(t.status, t.createdAt),
    index("tasks_created_by_created_at_idx").on(t.createdBy, t.createdAt),
    index("tasks_expires_at_idx").on(t.expiresAt),
    // Only tasks still waiting for a notice: the every-minute scan reads these rows and no others, however many
    // tasks were noticed or finished before. The scan's WHERE repeats this predicate literally so SQLite uses it.
    index("tasks_expiry_due_idx")
      .on(t.expiresAt)
      .where(sql`status <> 'done' AND expires_at IS NOT NULL AND notified_for IS NOT expires_at`),
    index("tasks_title_idx").on(t.title),
  ],
);

/** In-app notifications, newest first per user. */
export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    entityType: text("entity_type"),
    entityId: text("entity_id"),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>(),
    readAt: integer("read_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("notifications_user_created_idx").on(t.userId, t.createdAt),
    // Retention deletes by age, a bounded page at a time (src/cron/prune-processed.ts).
    index("notifications_created_idx").on(t.createdAt),
  ],
);

/**
 * `suppressed`: recorded, never sent, never retried: a budget was spent or the address is not verified; the reason
 * says which (the in-app notification, if any, still appears).
 */
export const OUTBOX_STATUSES = ["queued", "sending", "sent", "retrying", "failed", "recorded", "suppressed"] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Every mail, one row per recipient; the row id is the queue message id, so redelivery is detectable. */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    recipientEmail: text("recipient_email").notNull(),
    recipientName: text("recipient_name"),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    htmlBody: text("html_body").notNull(),
    kind: text("kind").notNull(),
    entityType: text("entity_type"),
    entityId: text("entity_id"),
    status: text("status", { enum: OUTBOX_STATUSES }).notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** Why a `suppressed` row was not sent, e.g. `recipient_unverified`, `recipient_budget`, `actor_budget`. */
    suppressedReason: text("suppressed_reason"),
    /** The user whose action caused the mail (counted by the per-actor budget); null for system mail (the cron). */
    actorId: text("actor_id"),
    /**
     * An account mail's single-use token, encrypted for the mail consumer (src/mail/seal.ts): the bodies hold a
     * placeholder, the consumer puts the token in at send time and sets this to NULL once the row is done with.
     */
    sealedToken: text("sealed_token"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("outbox_status_created_idx").on(t.status, t.createdAt),
    index("outbox_kind_created_idx").on(t.kind, t.createdAt),
    index("outbox_created_idx").on(t.createdAt),
    // The mail budgets (src/mail/budget.ts) count the last hour's unsuppressed rows per address and per actor; these
    // partial indexes hold exactly those rows, so a flood of suppressed rows never slows the count. The budget's
    // WHERE repeats the predicate literally so SQLite uses them.
    index("outbox_budget_recipient_idx")
      .on(sql`lower(${t.recipientEmail})`, t.createdAt)
      .where(sql`status <> 'suppressed'`),
    index("outbox_budget_actor_idx")
      .on(t.actorId, t.createdAt)
      .where(sql`status <> 'suppressed' AND actor_id IS NOT NULL`),
  ],
);

/** Queue message ids already applied; written in the same db.batch() as the effect (at-least-once delivery). */
export const processedMessages = sqliteTable(
  "processed_messages",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    processedAt: integer("processed_at").notNull(),
  },
  (t) => [index("processed_messages_processed_at_idx").on(t.processedAt)],
);

/** Catalog. sku is a UUID; price in integer cents; views is the exact anonymous single-product read count. */
export const products = sqliteTable(
  "products",
  {
    sku: text("sku").primaryKey(),
    name: text("name").notNull(),
    brand: text("brand").notNull(),
    priceCents: integer("price_cents").notNull(),
    views: integer("views").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // A list page (default order created_at, ties by sku) is read straight from these, not sorted from the table.
    index("products_brand_created_at_sku_idx").on(t.brand, t.createdAt, t.sku),
    index("products_name_idx").on(t.name),
    index("products_price_idx").on(t.priceCents),
    index("products_created_at_sku_idx").on(t.createdAt, t.sku),
  ],
);

/** Every create/update/delete of a product; survives the product's deletion (no foreign key on purpose). */
export const productHistory = sqliteTable(
  "product_history",
  {
    id: text("id").primaryKey(),
    sku: text("sku").notNull(),
    action: text("action", { enum: ["create", "update", "delete"] }).notNull(),
    actorId: text("actor_id").notNull(),
    changes: text("changes", { mode: "json" }).$type<Record<string, { from: unknown; to: unknown }>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("product_history_sku_created_idx").on(t.sku, t.createdAt)],
);

/** Anonymous views per product per UTC day (YYYY-MM-DD), for reports. */
export const productViewsDaily = sqliteTable(
  "product_views_daily",
  {
    sku: text("sku").notNull(),
    day: text("day").notNull(),
    views: integer("views").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.sku, t.day] }), index("product_views_daily_day_idx").on(t.day)],
);

/** One row per browser session of the cursor page; live totals live in the session's Durable Object. */
export const cursorSessions = sqliteTable(
  "cursor_sessions",
  {
    id: text("id").primaryKey(),
    label: text("label"),
    viewportWidth: integer("viewport_width").notNull(),
    viewportHeight: integer("viewport_height").notNull(),
    createdAt: createdAt(),
    endedAt: integer("ended_at"),
    eventCount: integer("event_count").notNull().default(0),
    totalDistance: real("total_distance").notNull().default(0),
    lastEventAt: integer("last_event_at"),
  },
  (t) => [index("cursor_sessions_created_idx").on(t.createdAt)],
);

/**
 * Per-10-second rollups of a cursor session, sent by its Durable Object through the telemetry queue (the raw events
 * stay in the object, then in R2). Each row is the whole bucket; last_seq orders two versions of it, and the session
 * has last_seq + 1 events and total_distance px at the bucket's end.
 */
export const cursorRollups = sqliteTable(
  "cursor_rollups",
  {
    sessionId: text("session_id").notNull(),
    bucketStart: integer("bucket_start").notNull(),
    distance: real("distance").notNull(),
    peakSpeed: real("peak_speed").notNull(),
    eventCount: integer("event_count").notNull(),
    startX: real("start_x").notNull(),
    startY: real("start_y").notNull(),
    endX: real("end_x").notNull(),
    endY: real("end_y").notNull(),
    lastSeq: integer("last_seq").notNull(),
    totalDistance: real("total_distance").notNull(),
    lastT: integer("last_t").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.bucketStart] })],
);

/**
 * Exact row counts of the big tables (`products`, `tasks`), so an unfiltered list's `total` reads one row instead of
 * every row. Kept by triggers (migration `counters_triggers`), which run inside the statement that inserts or deletes,
 * so the count is exact whatever writes the rows: the API, bulk endpoints, seeds, tests.
 */
export const counters = sqliteTable("counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});
