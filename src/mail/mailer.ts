/** An address as providers take it. */
export type Address = { email: string; name?: string | null };

/** One rendered mail to one recipient. */
export type OutgoingMail = { to: Address; from: Address; subject: string; text: string; html: string };

/**
 * What became of one send:
 * - `sent`: the provider accepted it.
 * - `retry`: a transient failure (5xx, 429, network error, timeout); worth trying again later, no sooner than
 *   `retryAfterSeconds` when the provider said so.
 * - `failed`: the provider refused it for good (other 4xx); `error` carries the provider's own message.
 */
export type SendResult =
  | { outcome: "sent"; status: number }
  | { outcome: "retry"; error: string; status?: number; retryAfterSeconds?: number }
  | { outcome: "failed"; error: string; status: number };

/** Anything that can deliver a mail. The queue consumer depends on this, not on a provider. */
export interface Mailer {
  readonly name: string;
  send(mail: OutgoingMail): Promise<SendResult>;
}
