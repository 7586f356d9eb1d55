import { log } from "../lib/log";
import { handleAnalyticsBatch } from "./analytics";
import { handleMailBatch, handleMailDeadLetters } from "./mail";

export type QueueHandler = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/** Consumers by queue name (the names in wrangler.toml). Each acks or retries its own messages. */
export const queueHandlers: Record<string, QueueHandler> = {
  analytics: handleAnalyticsBatch,
  mail: (batch, env, ctx) => handleMailBatch(batch, env, ctx),
  "mail-dlq": (batch, env, ctx) => handleMailDeadLetters(batch, env, ctx),
};

/** The Worker's `queue` entry point: dispatch on the queue name; an unknown queue is logged and acknowledged. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const handler = queueHandlers[batch.queue];
  if (!handler) {
    log("warn", "message batch from an unknown queue acknowledged", {
      queue: batch.queue,
      messages: batch.messages.length,
    });
    batch.ackAll();
    return;
  }
  await handler(batch, env, ctx);
}
