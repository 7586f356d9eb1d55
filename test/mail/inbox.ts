import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Mailer, OutgoingMail } from "../../src/mail/mailer";
import { handleMailBatch } from "../../src/queues/mail";
import { callWith } from "../helpers";

/**
 * The Worker with its `mail` queue held in the test's hands: requests run through the real fetch entry point, every
 * message they put on MAIL_QUEUE is kept here instead of reaching the background consumer, and `deliver()` runs the
 * kept messages through the real consumer (again and again, since a message may queue another) with a mailer that
 * records what it would send. So a test reads each mail exactly as its recipient would, with no race against the
 * background consumer.
 */
export type Inbox = ReturnType<typeof inbox>;

export function inbox(overrides: Partial<Record<keyof Env, unknown>> = {}) {
  const queued: unknown[] = [];
  const queue = {
    async send(body: unknown) {
      queued.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>) {
      for (const message of messages) queued.push(message.body);
    },
  };
  const testEnv = { ...env, MAIL_QUEUE: queue, ...overrides } as unknown as Env;
  const mails: OutgoingMail[] = [];
  const mailer: Mailer = {
    name: "inbox",
    async send(mail) {
      mails.push(mail);
      return { outcome: "sent", status: 202 };
    },
  };
  let sequence = 0;

  /** A request under /api/v1 to the Worker with the mail queue held here. */
  const fetch = (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) =>
    callWith(testEnv, `/api/v1${path}`, init);

  /** Runs every kept message (and the ones their handling queues) through the mail consumer. */
  async function deliver(): Promise<void> {
    for (let round = 0; queued.length > 0; round++) {
      if (round > 10) throw new Error("the mail queue does not drain");
      const bodies = queued.splice(0);
      const batch = createMessageBatch(
        "mail",
        bodies.map((body) => ({ id: `inbox-${++sequence}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await handleMailBatch(batch, testEnv, ctx, mailer);
      await waitOnExecutionContext(ctx);
    }
  }

  /** Every mail delivered to `email` whose subject matches, oldest first. */
  function to(email: string, subject: RegExp = /./): OutgoingMail[] {
    return mails.filter((mail) => mail.to.email === email && subject.test(mail.subject));
  }

  /** The token of the newest delivered mail to `email` matching `subject`, read from the link as a person would. */
  function tokenOf(email: string, subject: RegExp): string {
    const mail = to(email, subject).at(-1);
    const token = mail?.text.match(/#token=([\w-]+)/)?.[1];
    expect(token, `a mail with a token to ${email} matching ${subject}`).toBeDefined();
    return token!;
  }

  return { env: testEnv, fetch, deliver, mails, to, tokenOf, queued };
}

export const VERIFY_SUBJECT = /confirm your email/i;
export const RESET_SUBJECT = /reset your password/i;
