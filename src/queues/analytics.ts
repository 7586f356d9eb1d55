import { log } from "../lib/log";
import type { AnalyticsMessage } from "./analytics-message";
import { handleProductViews } from "./product-views";

/**
 * The `views` queue carries messages `{ type, id, ... }`; today only `product.view`. The consumer groups a batch by
 * type and hands each group to its handler in one call, so a handler can write the whole group in a few statements
 * (one UPDATE per SKU per batch). Each handler acks or retries its own messages. One log line per batch.
 */
export type { AnalyticsMessage } from "./analytics-message";
export type AnalyticsHandler = (messages: Message<AnalyticsMessage>[], env: Env) => Promise<void>;

/** Handlers by message type. */
export const analyticsHandlers: Record<string, AnalyticsHandler> = {
  "product.view": handleProductViews,
};

export async function handleAnalyticsBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const groups = new Map<string, Message<AnalyticsMessage>[]>();
  let unknown = 0;
  for (const message of batch.messages as Message<AnalyticsMessage>[]) {
    const type = typeof message.body === "object" && message.body !== null ? message.body.type : undefined;
    // Own keys only: a type such as "__proto__" or "constructor" must not reach Object.prototype's members.
    const handler =
      typeof type === "string" && Object.hasOwn(analyticsHandlers, type) ? analyticsHandlers[type] : undefined;
    if (!type || !handler) {
      unknown += 1;
      log("warn", "views message of unknown type acknowledged", { type, message_id: message.id });
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
  log("info", "views batch handled", {
    queue: batch.queue,
    messages: batch.messages.length,
    unknown,
    by_type: Object.fromEntries([...groups].map(([type, messages]) => [type, messages.length])),
  });
}
