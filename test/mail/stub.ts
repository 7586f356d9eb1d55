import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { vi } from "vitest";
import { getDb } from "../../src/db/client";
import { outbox } from "../../src/db/schema";
import { type MailMessage, mailStatements, type Recipient } from "../../src/mail/enqueue";

export const MAILCHANNELS_HOST = new URL(env.MAILCHANNELS_API_URL).host;

export type Captured = { url: string; method: string; headers: Headers; body: unknown };

/**
 * Stubs fetch for the MailChannels host only (anything else goes to the real fetch) and records every request.
 * `answer` is called per request, in order: a Response, or an Error to throw (a network failure).
 */
export function stubMailChannels(answer: (n: number, request: Captured) => Response | Error) {
  const realFetch = globalThis.fetch;
  const requests: Captured[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (new URL(request.url).host !== MAILCHANNELS_HOST) return realFetch(input as RequestInfo, init);
    const text = await request.text();
    const captured = { url: request.url, method: request.method, headers: request.headers, body: JSON.parse(text) };
    requests.push(captured);
    const result = answer(requests.length, captured);
    if (result instanceof Error) throw result;
    return result;
  });
  return { requests, restore: () => spy.mockRestore() };
}

export const TASK_MESSAGE = (title = "Write the report"): MailMessage => ({
  kind: "task.expiring",
  task: { id: crypto.randomUUID(), title, expiresAt: Date.UTC(2026, 10, 20, 14, 5) },
});

/** Outbox rows written straight to D1 WITHOUT a queue message, so only the test's own handler call touches them. */
export async function insertOutbox(recipients: Recipient[], message: MailMessage = TASK_MESSAGE()): Promise<string[]> {
  const db = getDb(env.DB);
  const prepared = mailStatements(db, env, recipients, message);
  const [first, ...rest] = prepared.statements;
  await db.batch([first!, ...rest]);
  return prepared.queueMessages.map((m) => m.body.id);
}

export async function outboxRow(id: string) {
  const [row] = await getDb(env.DB).select().from(outbox).where(eq(outbox.id, id));
  return row!;
}
