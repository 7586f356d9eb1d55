import { settings } from "../lib/settings";
import type { Address, Mailer, OutgoingMail, SendResult } from "./mailer";

export const DEFAULT_MAILCHANNELS_API_URL = "https://api.mailchannels.net";
/** A send that has not answered in this time is abandoned and retried later (the consumer's wall time is finite). */
export const SEND_TIMEOUT_MS = 10_000;
/** Provider messages are stored in the outbox; keep them readable and bounded. */
const MAX_ERROR_CHARS = 500;

export type Dkim = { domain: string; selector: string; privateKey: string };
export type MailChannelsConfig = { apiUrl: string; apiKey: string; dkim?: Dkim; timeoutMs?: number };

/** The JSON body of POST /tx/v1/send. */
export type MailChannelsBody = {
  personalizations: { to: { email: string; name?: string }[] }[];
  from: { email: string; name?: string };
  subject: string;
  content: { type: "text/plain" | "text/html"; value: string }[];
  dkim_domain?: string;
  dkim_selector?: string;
  dkim_private_key?: string;
};

function address({ email, name }: Address): { email: string; name?: string } {
  return name ? { email, name } : { email };
}

/** The request body MailChannels expects: plain text first, then HTML (clients show the last part they support). */
export function mailChannelsBody(mail: OutgoingMail, dkim?: Dkim): MailChannelsBody {
  const body: MailChannelsBody = {
    personalizations: [{ to: [address(mail.to)] }],
    from: address(mail.from),
    subject: mail.subject,
    content: [
      { type: "text/plain", value: mail.text },
      { type: "text/html", value: mail.html },
    ],
  };
  if (dkim) {
    body.dkim_domain = dkim.domain;
    body.dkim_selector = dkim.selector;
    body.dkim_private_key = dkim.privateKey;
  }
  return body;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The provider's own words: `errors` / `message` / `error` from a JSON body, else the text, bounded. */
export async function providerMessage(response: Response): Promise<string> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // A body that cannot be read still leaves the status to report.
  }
  let detail = text.trim();
  try {
    const json = JSON.parse(text) as { errors?: unknown; message?: unknown; error?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) detail = json.errors.map(String).join("; ");
    else if (typeof json.message === "string") detail = json.message;
    else if (typeof json.error === "string") detail = json.error;
  } catch {
    // Not JSON: keep the text.
  }
  const line = `HTTP ${response.status}${detail ? `: ${detail}` : ""}`;
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

/** MailChannels Email API: POST {apiUrl}/tx/v1/send with X-Api-Key. */
export class MailChannelsMailer implements Mailer {
  readonly name = "mailchannels";
  readonly endpoint: string;

  constructor(private readonly config: MailChannelsConfig) {
    this.endpoint = `${(config.apiUrl || DEFAULT_MAILCHANNELS_API_URL).replace(/\/+$/, "")}/tx/v1/send`;
  }

  async send(mail: OutgoingMail): Promise<SendResult> {
    let response: Response;
    try {
      // fetch is looked up at call time, so tests can stub globalThis.fetch for the provider's host.
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": this.config.apiKey },
        body: JSON.stringify(mailChannelsBody(mail, this.config.dkim)),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? SEND_TIMEOUT_MS),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      const reason =
        name === "TimeoutError" || name === "AbortError"
          ? `timed out after ${this.config.timeoutMs ?? SEND_TIMEOUT_MS} ms`
          : `network error: ${error instanceof Error ? error.message : String(error)}`;
      return { outcome: "retry", error: reason };
    }
    if (response.status === 200 || response.status === 202) {
      await response.body?.cancel();
      return { outcome: "sent", status: response.status };
    }
    const error = await providerMessage(response);
    if (response.status >= 500 || response.status === 429) {
      return {
        outcome: "retry",
        error,
        status: response.status,
        retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
      };
    }
    // Any other answer (4xx, and unexpected 1xx/2xx/3xx) will not change by sending the same request again.
    return { outcome: "failed", error, status: response.status };
  }
}

/** DKIM settings when all three are configured; signing with a partial set would only make MailChannels refuse. */
export function dkimFromEnv(env: Env): Dkim | undefined {
  const { dkimDomain: domain, dkimSelector: selector } = settings(env);
  const privateKey = env.DKIM_PRIVATE_KEY?.trim();
  return domain && selector && privateKey ? { domain, selector, privateKey } : undefined;
}

/** The configured mailer, or null when no MAILCHANNELS_API_KEY is set (mail is then recorded, not sent). */
export function mailerFromEnv(env: Env): MailChannelsMailer | null {
  const apiKey = env.MAILCHANNELS_API_KEY?.trim();
  if (!apiKey) return null;
  return new MailChannelsMailer({
    apiUrl: settings(env).mailchannelsApiUrl,
    apiKey,
    dkim: dkimFromEnv(env),
  });
}

export function senderFromEnv(env: Env): Address {
  const { mailFromEmail, mailFromName } = settings(env);
  return { email: mailFromEmail, name: mailFromName };
}
