import { log } from "../lib/log";
import { handleCursorEvents } from "./cursor-events";
import { handleProductViews } from "./product-views";

/**
 * The `analytics` queue carries several kinds of messages, each `{ type, id, ... }`. The consumer groups a batch by
 * type and hands each group to its handler in one call, so a handler can write the whole group in a few statements
 * (one UPDATE per SKU per batch, batched INSERTs of cursor events). Each handler acks or retries its own messages.
 */
export type AnalyticsMessage = { type: string; id: string };
export type AnalyticsHandler = (messages: Message<AnalyticsMessage>[], env: Env) => Promise<void>;

/** Handlers by message type; product views and cursor events register here. */
export const analyticsHandlers: Record<string, AnalyticsHandler> = {
  "product.view": handleProductViews,
  "cursor.events": handleCursorEvents,
};

export async function handleAnalyticsBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const groups = new Map<string, Message<AnalyticsMessage>[]>();
  for (const message of batch.messages as Message<AnalyticsMessage>[]) {
    const type = typeof message.body === "object" && message.body !== null ? message.body.type : undefined;
    // Own keys only: a type such as "__proto__" or "constructor" must not reach Object.prototype's members.
    const handler =
      typeof type === "string" && Object.hasOwn(analyticsHandlers, type) ? analyticsHandlers[type] : undefined;
    if (!type || !handler) {
      log("warn", "analytics message of unknown type acknowledged", { type, message_id: message.id });
      message.ack();
      continue;
    }
    const group = groups.get(type) ?? [];
    group.push(message);
    groups.set(type, group);
  }
  for (const [type, messages] of groups) {
    await analyticsHandlers[type]!(messages, env);
  }
}
