import type { components } from "../../api/schema";
import { BY_AGE, listMemory, RECENTLY_CHANGED } from "../../ui/list";
import { plural } from "../../ui/words";

export type Mail = components["schemas"]["OutboxItem"];
export type MailDetail = components["schemas"]["OutboxDetail"];
export type MailStatus = Mail["status"];

/** Each status in words; keyed by the API's own enum, so a new status is a type error here until it has words. */
export const STATUS_WORDS: Record<MailStatus, { label: string; tone: "ok" | "warn" | "bad" | "plain" }> = {
  queued: { label: "Queued", tone: "plain" },
  sending: { label: "Sending", tone: "plain" },
  retrying: { label: "Retrying", tone: "warn" },
  sent: { label: "Sent", tone: "ok" },
  failed: { label: "Failed", tone: "bad" },
  recorded: { label: "Recorded", tone: "plain" },
  suppressed: { label: "Suppressed", tone: "warn" },
};

const SUPPRESSED: Record<string, string> = {
  recipient_budget: "the recipient's hourly mail budget was spent",
  actor_budget: "the hourly mail budget of whoever caused it was spent",
  recipient_unverified: "the address is not verified yet",
};

const tries = (n: number) => plural(n, "try", "tries");

/** Why the mail is where it is, in one sentence. */
export function statusReason(mail: Mail): string {
  switch (mail.status) {
    case "queued":
      return "Waiting for its first try.";
    case "sending":
      return "Being handed to the mail provider.";
    case "retrying":
      return `${tries(mail.attempts)} so far; it is tried again${mail.last_error ? ` (last error: ${mail.last_error})` : ""}.`;
    case "sent":
      return `Accepted by the mail provider after ${tries(mail.attempts)}.`;
    case "failed":
      return `Failed after ${tries(mail.attempts)}${mail.last_error ? `: ${mail.last_error}` : ""}.`;
    case "recorded":
      return "Recorded, not sent: no mail provider is configured here.";
    case "suppressed": {
      const why = mail.suppressed_reason ? (SUPPRESSED[mail.suppressed_reason] ?? mail.suppressed_reason) : null;
      return `Never sent${why ? `: ${why}` : ""}.`;
    }
  }
}

export const STATUSES = Object.keys(STATUS_WORDS) as MailStatus[];

export const ORDERINGS = [...BY_AGE, RECENTLY_CHANGED, { value: "-attempts", label: "Most tries" }];

/** The list as the person last saw it, so "Back to the outbox" keeps their filters. */
export const outboxList = listMemory("/outbox", "the outbox");
