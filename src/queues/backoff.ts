import { errorFields, log } from "../lib/log";

/** Exponential backoff for message.retry({ delaySeconds }): 2 s, 4 s, 8 s … capped at 5 minutes. */
export function backoffSeconds(attempts: number, base = 2, cap = 300): number {
  return Math.min(cap, base ** Math.max(1, attempts));
}

/**
 * One write (a single db.batch, i.e. one transaction) on behalf of a group of messages: every message is acked once
 * it commits, and every one is retried with backoff when it fails, so a group is applied whole or not at all.
 */
export async function applyGroup(
  messages: readonly Message<unknown>[],
  failure: string,
  write: () => Promise<unknown>,
): Promise<void> {
  try {
    await write();
    for (const message of messages) message.ack();
  } catch (error) {
    log("error", `${failure}; retrying`, { messages: messages.length, ...errorFields(error) });
    for (const message of messages) message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  }
}
