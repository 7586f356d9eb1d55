import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { notificationPayload } from "../../src/mail/enqueue";
import { renderNotification } from "../../src/mail/templates";
import { createUser } from "../helpers";

/**
 * Bytes of D1 one row of each store a stranger can grow takes, measured: the database's size (`size_after`, whole
 * 4 KiB pages, indexes and page overhead included) before and after inserting many rows of the largest kind the API
 * lets a client make (3-byte UTF-8 characters in every text field, at its maximum length). The "Bounded stores" table
 * in docs/hardening.md multiplies these by the most rows a client can add; the ceilings below are its figures, so the
 * table cannot claim less than a row takes.
 */

const CEILINGS = {
  tasks: 40_000,
  notifications: 4_500,
  processed_messages: 150,
  rate_limits: 2_000,
  product_views_daily: 160,
} as const;

type Store = keyof typeof CEILINGS;

/** Three bytes in UTF-8, one UTF-16 unit: the most bytes a length limit counted in characters lets through. */
const wide = (n: number) => "€".repeat(n);

async function sizeAfter(): Promise<number> {
  const { meta } = await env.DB.prepare("UPDATE counters SET value = value WHERE name = 'tasks'").run();
  return meta.size_after;
}

/** Inserts `rows` statements in batches and returns the bytes each row added. */
async function bytesPerRow(statements: D1PreparedStatement[]): Promise<number> {
  const before = await sizeAfter();
  for (let i = 0; i < statements.length; i += 100) await env.DB.batch(statements.slice(i, i + 100));
  return Math.ceil(((await sizeAfter()) - before) / statements.length);
}

const measured: Partial<Record<Store, number>> = {};

describe("bytes per row of the bounded stores", { timeout: 120_000 }, () => {
  it("tasks: title 350 and description 10,000 characters", async () => {
    const user = await createUser("member");
    const now = Date.now();
    measured.tasks = await bytesPerRow(
      Array.from({ length: 200 }, () =>
        env.DB.prepare(
          "INSERT INTO tasks (id, title, description, status, expires_at, notified_for, created_by, created_at, updated_at) VALUES (?, ?, ?, 'in_progress', ?, ?, ?, ?, ?)",
        ).bind(crypto.randomUUID(), wide(350), wide(10_000), now, now, user.id, now, now),
      ),
    );
  });

  it("notifications: an expiry notice of a task with a 350-character title", async () => {
    const user = await createUser("member");
    const now = Date.now();
    const message = {
      kind: "task.expired" as const,
      task: { id: crypto.randomUUID(), title: wide(350), expiresAt: now },
    };
    const { title, body } = renderNotification(message);
    const payload = JSON.stringify(notificationPayload(message));
    measured.notifications = await bytesPerRow(
      Array.from({ length: 1_000 }, () =>
        env.DB.prepare(
          "INSERT INTO notifications (id, user_id, kind, title, body, entity_type, entity_id, payload, read_at, created_at) VALUES (?, ?, 'task.expired', ?, ?, 'task', ?, ?, ?, ?)",
        ).bind(crypto.randomUUID(), user.id, title, body, message.task.id, payload, now, now),
      ),
    );
  });

  it("processed_messages: one counted view", async () => {
    const now = Date.now();
    measured.processed_messages = await bytesPerRow(
      Array.from({ length: 5_000 }, () =>
        env.DB.prepare("INSERT INTO processed_messages (id, queue, processed_at) VALUES (?, 'views', ?)").bind(
          crypto.randomUUID(),
          now,
        ),
      ),
    );
  });

  it("rate_limits: a sign-in counter for a 254-character address", async () => {
    const now = Date.now();
    measured.rate_limits = await bytesPerRow(
      Array.from({ length: 1_000 }, () =>
        env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)").bind(
          `acct:${crypto.randomUUID()}${wide(254 - 36)}`,
          now,
        ),
      ),
    );
  });

  it("product_views_daily: one product's day", async () => {
    measured.product_views_daily = await bytesPerRow(
      Array.from({ length: 5_000 }, (_, i) =>
        env.DB.prepare("INSERT INTO product_views_daily (sku, day, views) VALUES (?, ?, ?)").bind(
          crypto.randomUUID(),
          `2030-01-${String((i % 28) + 1).padStart(2, "0")}`,
          1_000_000 + i,
        ),
      ),
    );
  });

  it("stay under the ceilings docs/hardening.md uses", () => {
    // The measured figures, for docs/hardening.md when a ceiling has to move.
    console.log(`store bytes per row: ${JSON.stringify(measured)}`);
    for (const [store, ceiling] of Object.entries(CEILINGS)) {
      expect(measured[store as Store], store).toBeGreaterThan(0);
      expect(measured[store as Store], store).toBeLessThanOrEqual(ceiling);
    }
  });
});
