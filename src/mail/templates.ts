import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { MailMessage } from "./types";

export type RenderedMail = { subject: string; text: string; html: string };
export type RenderedNotification = { title: string; body: string };

const PRODUCT_VERBS = { create: "created", update: "updated", delete: "deleted" } as const;
const MAX_SUBJECT = 200;

/**
 * Mail HTML is written with hono's `html` tag: every value put into it is escaped (`& < > " '`) unless it is itself
 * `html` (a fragment built the same way), so a template cannot forget to escape. The helpers below are the pieces a
 * template is made of; `mailHtml` makes the whole document.
 */
export type Html = HtmlEscapedString;

function settled(fragment: HtmlEscapedString | Promise<HtmlEscapedString>): Html {
  if (fragment instanceof Promise) throw new Error("mail templates are synchronous");
  return fragment;
}

/** Escapes text for HTML element content and quoted attribute values (what `html` does to every value). */
export function escapeHtml(value: string): string {
  return settled(html`${value}`).toString();
}

/** Key/value rows, plain text in, escaped. */
export function factsTable(facts: [string, string][]): Html {
  return settled(html`<table>${facts.map(([k, v]) => html`<tr><th align="left">${k}</th><td>${v}</td></tr>`)}</table>`);
}

/** A titled table with a header row and plain-text cells, escaped. */
export function titledTable(title: string, header: string[], rows: string[][]): Html {
  return settled(
    html`<h2>${title}</h2><table><tr>${header.map((h) => html`<th align="left">${h}</th>`)}</tr>${rows.map(
      (row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`,
    )}</table>`,
  );
}

/** A whole mail document: the subject as its title, then the body fragments in order. */
export function mailHtml(subject: string, ...body: Html[]): string {
  return settled(
    html`<!doctype html><html><head><meta charset="utf-8"><title>${subject}</title></head><body>${body}</body></html>`,
  ).toString();
}

/** A paragraph of plain text, escaped; `small` for a footer. */
export function paragraph(text: string, options: { small?: boolean } = {}): Html {
  return settled(options.small ? html`<p><small>${text}</small></p>` : html`<p>${text}</p>`);
}

/** A paragraph holding one link; the text and the address are escaped (the address as an attribute value). */
export function linkParagraph(label: string, href: string): Html {
  return settled(html`<p><a href="${href}">${label}</a></p>`);
}

/**
 * A subject is one line: user-supplied values with CR/LF or other control characters are flattened (no header
 * injection should a relay ever build headers from it) and the whole is cut to a sane length.
 */
export function oneLine(value: string, max = MAX_SUBJECT): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we strip.
  const flat = value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "2026-11-20 14:05 UTC": unambiguous for every reader, whatever their time zone. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A change value for display: strings as they are, null as "(none)", anything else as JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "(none)";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

type Parts = {
  subject: string;
  /** Heading line, plain text (escaped when put into HTML). */
  heading: string;
  /** Key/value lines, plain text. */
  facts: [string, string][];
  /** A table of changes, plain text cells. */
  changes?: [string, string, string][];
  /** The one thing to do, as a link (account mails). */
  action?: { label: string; href: string };
  footer: string;
};

function partsFor(message: MailMessage): Parts {
  switch (message.kind) {
    case "task.expiring":
    case "task.expired": {
      const [state, verb, label] =
        message.kind === "task.expired" ? ["expired", "expired", "Expired at"] : ["expiring", "expires", "Expires at"];
      const at = formatTime(message.task.expiresAt);
      return {
        subject: `Task ${state}: ${message.task.title}`,
        heading: `The task "${message.task.title}" ${verb} at ${at}.`,
        facts: [
          ["Task", message.task.title],
          [label, at],
          ["Task id", message.task.id],
        ],
        footer: "An automatic notice from the task board: the task is not done yet.",
      };
    }
    case "product.changed": {
      const verb = PRODUCT_VERBS[message.action];
      const { product, actor } = message;
      return {
        subject: `Product ${verb}: ${product.name}`,
        heading: `${actor.username} ${verb} the product "${product.name}".`,
        facts: [
          ["Product", product.name],
          ["Brand", product.brand],
          ["Price", product.price],
          ["SKU", product.sku],
          ["Changed by", actor.username],
        ],
        changes: Object.entries(message.changes).map(([field, change]) => [
          field,
          formatValue(change.from),
          formatValue(change.to),
        ]),
        footer: "You get this because you are an administrator of the product catalog.",
      };
    }
    case "account.verify-email":
      return {
        subject: "Confirm your email address",
        heading: "Confirm that this address is yours: open the link below. It works once.",
        action: { label: "Confirm my address", href: message.link },
        facts: [
          ["Link", message.link],
          ["Valid until", formatTime(message.expiresAt)],
        ],
        footer:
          "Until the address is confirmed, the back office mails it nothing but this kind of message. " +
          "If you did not create an account, ignore this mail.",
      };
    case "account.password-reset":
      return {
        subject: "Reset your password",
        heading:
          "Someone asked to reset the password of the account with this address. To choose a new one, open the " +
          "link below. It works once.",
        action: { label: "Choose a new password", href: message.link },
        facts: [
          ["Link", message.link],
          ["Valid until", formatTime(message.expiresAt)],
        ],
        footer: "If you did not ask for this, ignore this mail: your password stays as it is.",
      };
  }
}

/** Subject, plain-text and HTML bodies of a mail. The HTML escapes every value; the text needs no escaping. */
export function renderMail(message: MailMessage): RenderedMail {
  const parts = partsFor(message);
  const subject = oneLine(parts.subject);

  const textLines = [parts.heading, "", ...parts.facts.map(([k, v]) => `${k}: ${v}`)];
  if (parts.changes && parts.changes.length > 0) {
    textLines.push("", "Changes:", ...parts.changes.map(([field, from, to]) => `  ${field}: ${from} -> ${to}`));
  }
  textLines.push("", "-- ", parts.footer);
  const text = `${textLines.join("\n")}\n`;

  const changes =
    parts.changes && parts.changes.length > 0 ? [titledTable("Changes", ["Field", "From", "To"], parts.changes)] : [];
  const action = parts.action ? [linkParagraph(parts.action.label, parts.action.href)] : [];
  const body = mailHtml(
    subject,
    paragraph(parts.heading),
    ...action,
    factsTable(parts.facts),
    ...changes,
    paragraph(parts.footer, { small: true }),
  );

  return { subject, text, html: body };
}

/** The in-app notification of a mail: a short title and a one-line body (plain text; the client escapes). */
export function renderNotification(message: MailMessage): RenderedNotification {
  const parts = partsFor(message);
  return { title: oneLine(parts.subject), body: oneLine(parts.heading, 1000) };
}
