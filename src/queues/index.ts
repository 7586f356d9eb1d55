import { log } from "../lib/log";
import { settings } from "../lib/settings";
import { handleMailBatch, handleMailDeadLetters } from "./mail";
import { handleTelemetryBatch } from "./telemetry";
import { handleViewsBatch } from "./views";

export type QueueHandler = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/**
 * Messages that failed every retry: D1 refused them six times. Nothing can apply them now, so each is logged at error
 * level with what it carried (type, id, SKU or session), for an operator to replay or explain.
 */
function deadLetters(kind: string): QueueHandler {
  return async (batch) => {
    for (const message of batch.messages) {
      const body = (typeof message.body === "object" && message.body !== null ? message.body : {}) as Record<
        string,
        unknown
      >;
      log("error", `${kind} message dead-lettered: not applied`, {
        queue: batch.queue,
        message_id: message.id,
        attempts: message.attempts,
        type: body.type,
        id: body.id,
        sku: body.sku,
        session_id: body.session_id,
        rollups: Array.isArray(body.rollups) ? body.rollups.length : undefined,
      });
    }
    batch.ackAll();
  };
}

/** Consumers by queue name (the names in wrangler.toml). Each acks or retries its own messages. */
export const queueHandlers: Record<string, QueueHandler> = {
  views: (batch, env) => handleViewsBatch(batch, env),
  "views-dlq": deadLetters("views"),
  telemetry: async (batch, env) => {
    await handleTelemetryBatch(batch, env);
  },
  "telemetry-dlq": deadLetters("telemetry"),
  mail: (batch, env, ctx) => handleMailBatch(batch, env, ctx),
  "mail-dlq": (batch, env, ctx) => handleMailDeadLetters(batch, env, ctx),
};

/**
 * The handler key of a queue: a named wrangler environment gives its queues its own names (`mail-production`, see
 * [env.production] in wrangler.toml), so the `-<ENVIRONMENT>` suffix is dropped; the top level's names are the keys.
 */
export function queueKey(queue: string, environment: string | undefined): string {
  const suffix = `-${environment}`;
  return environment && queue.endsWith(suffix) ? queue.slice(0, -suffix.length) : queue;
}

/** The Worker's `queue` entry point: dispatch on the queue name; an unknown queue is logged and acknowledged. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const key = queueKey(batch.queue, settings(env).environment);
  const handler = Object.hasOwn(queueHandlers, key) ? queueHandlers[key] : undefined;
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
