import { env } from "cloudflare:workers";
import { desc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getDb } from "../../src/db/client";
import { notifications, outbox } from "../../src/db/schema";
import {
  enqueueMail,
  type MailMessage,
  mailStatements,
  notificationStatements,
  notify,
  sendQueued,
} from "../../src/mail/enqueue";
import { renderMail } from "../../src/mail/templates";
import { createUser } from "../helpers";
import { outboxRow, TASK_MESSAGE } from "./stub";

afterEach(() => vi.restoreAllMocks());

const PRODUCT: MailMessage = {
  kind: "product.changed",
  action: "create",
  actor: { id: "a1", username: "admin" },
  product: { sku: "11111111-2222-4333-8444-555555555555", name: "Widget", brand: "Acme", price: "1.00" },
  changes: { name: { from: null, to: "Widget" } },
};

describe("mailStatements", () => {
  it("prepares one rendered, queued outbox row and one queue message per distinct recipient", async () => {
    const db = getDb(env.DB);
    const prepared = mailStatements(
      db,
      env,
      [{ email: "A@example.com", name: "A" }, { email: "a@example.com" }, { email: "b@example.com" }, { email: " " }],
      PRODUCT,
      undefined,
      1_700_000_000_000,
    );
    expect(prepared.statements).toHaveLength(2);
    expect(prepared.queueMessages).toHaveLength(2);
    await db.batch([prepared.statements[0]!, prepared.statements[1]!]);
    const rendered = renderMail(PRODUCT);
    const row = await outboxRow(prepared.queueMessages[0]!.body.id);
    expect(row).toMatchObject({
      recipientEmail: "A@example.com",
      recipientName: "A",
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html,
      kind: "product.changed",
      entityType: "product",
      entityId: PRODUCT.kind === "product.changed" ? PRODUCT.product.sku : "",
      status: "queued",
      attempts: 0,
      createdAt: 1_700_000_000_000,
      lastError: null,
    });
  });

  it("prepares nothing for no recipients", () => {
    expect(mailStatements(getDb(env.DB), env, [], PRODUCT)).toEqual({ statements: [], queueMessages: [] });
  });
});

describe("notificationStatements", () => {
  it("writes the notification and its mail in the caller's batch, about the task by default", async () => {
    const user = await createUser();
    const db = getDb(env.DB);
    const message = TASK_MESSAGE("Renew the domain");
    const prepared = notificationStatements(db, env, user, message);
    expect(prepared.statements).toHaveLength(2);
    await db.batch([prepared.statements[0]!, prepared.statements[1]!]);
    const [n] = await db.select().from(notifications).where(eq(notifications.userId, user.id));
    expect(n).toMatchObject({
      kind: "task.expiring",
      title: "Task expiring: Renew the domain",
      entityType: "task",
      entityId: message.kind === "task.expiring" ? message.task.id : "",
      readAt: null,
    });
    // snake_case keys and an ISO 8601 time, like every other body (never camelCase epoch milliseconds).
    const task = (message as Extract<MailMessage, { kind: "task.expiring" }>).task;
    expect(n!.payload).toEqual({
      task: { id: task.id, title: task.title, expires_at: new Date(task.expiresAt).toISOString() },
    });
    const row = await outboxRow(prepared.queueMessages[0]!.body.id);
    expect(row.recipientEmail).toBe(user.email);
    expect(row.recipientName).toBe(user.username);
  });
});

describe("sendQueued", () => {
  it("sends in chunks of at most 100 messages", async () => {
    const sendBatch = vi.fn(async () => ({}) as QueueSendBatchResponse);
    const fake = { ...env, MAIL_QUEUE: { sendBatch } } as unknown as Env;
    const messages = Array.from({ length: 250 }, () => ({ body: { id: crypto.randomUUID() } }));
    await sendQueued(fake, messages);
    expect(sendBatch.mock.calls.map((c) => (c as unknown as [unknown[]])[0].length)).toEqual([100, 100, 50]);
    await sendQueued(fake, []);
    expect(sendBatch).toHaveBeenCalledTimes(3);
  });
});

describe("enqueueMail and notify through the real queue", () => {
  it("enqueueMail writes rows that the Worker's mail consumer then handles (recorded: tests have no key)", async () => {
    for (const level of ["log", "warn"] as const) vi.spyOn(console, level).mockImplementation(() => {});
    const ids = await enqueueMail(env, [{ email: "q1@example.com" }, { email: "q2@example.com" }], PRODUCT);
    expect(ids).toHaveLength(2);
    await vi.waitFor(
      async () => {
        for (const id of ids) expect((await outboxRow(id)).status).toBe("recorded");
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it("notify writes the notification and its mail at once", async () => {
    for (const level of ["log", "warn"] as const) vi.spyOn(console, level).mockImplementation(() => {});
    const user = await createUser();
    await notify(env, user, TASK_MESSAGE("Call the bank"), { type: "task", id: "custom-entity" });
    const db = getDb(env.DB);
    const [n] = await db.select().from(notifications).where(eq(notifications.userId, user.id));
    expect(n).toMatchObject({ title: "Task expiring: Call the bank", entityId: "custom-entity" });
    const [mail] = await db
      .select()
      .from(outbox)
      .where(eq(outbox.recipientEmail, user.email))
      .orderBy(desc(outbox.createdAt));
    expect(mail).toMatchObject({ kind: "task.expiring", entityType: "task", entityId: "custom-entity" });
  });
});
