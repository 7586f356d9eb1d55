import type { BatchItem } from "drizzle-orm/batch";

/** The body of a message on the `mail` queue: the outbox row id. The consumer reads everything else from D1. */
export type MailQueueBody = { id: string };

/**
 * A write as a plan: the statements for one `db.batch()` (one transaction on D1), and the mail-queue messages to
 * send only once that batch has committed (so a message never points at a row that does not exist). Built by the
 * mail outbox, the task expiry rules, a task update and a product change; a caller may concatenate several.
 */
export type WritePlan = { statements: BatchItem<"sqlite">[]; queueMessages: MessageSendRequest<MailQueueBody>[] };
