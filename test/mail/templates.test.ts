import { describe, expect, it } from "vitest";
import type { MailMessage } from "../../src/mail/enqueue";
import { escapeHtml, formatTime, oneLine, renderMail, renderNotification } from "../../src/mail/templates";

const HOSTILE = `<script>alert("x")</script> & <img src=x onerror='steal()'>`;

const productMessage = (name: string): MailMessage => ({
  kind: "product.changed",
  action: "update",
  actor: { id: "u1", username: "<b>mallory</b>" },
  product: { sku: "3f1c0c4e-0000-4000-8000-000000000001", name, brand: 'Acme "Tools"', price: "19.99" },
  changes: {
    name: { from: "Hammer", to: name },
    price: { from: "18.50", to: "19.99" },
    tags: { from: null, to: ["a"] },
  },
});

describe("HTML escaping", () => {
  it("escapes the five characters that matter in element content and attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("never lets a hostile product name, actor or brand into the HTML as markup", () => {
    const { html, text, subject } = renderMail(productMessage(HOSTILE));
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>mallory");
    expect(html).toContain(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=&#39;steal()&#39;&gt;",
    );
    expect(html).toContain("&lt;b&gt;mallory&lt;/b&gt;");
    expect(html).toContain("Acme &quot;Tools&quot;");
    // The only tags are the template's own.
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9!]+)/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(
      ["!doctype", "body", "h2", "head", "html", "meta", "p", "small", "table", "td", "th", "title", "tr"].sort(),
    );
    // Plain text carries the name verbatim (it is not HTML), and the subject names it too.
    expect(text).toContain(HOSTILE);
    expect(subject).toBe(`Product updated: ${HOSTILE}`);
  });

  it("escapes a hostile task title in both task mails", () => {
    for (const kind of ["task.expiring", "task.expired"] as const) {
      const { html } = renderMail({ kind, task: { id: "t1", title: HOSTILE, expiresAt: 0 } });
      expect(html).not.toMatch(/<script|<img/);
      expect(html).toContain("&lt;script&gt;");
    }
  });
});

describe("templates", () => {
  it("renders an expiring task with its time in UTC", () => {
    const expiresAt = Date.UTC(2026, 10, 20, 14, 5);
    const mail = renderMail({ kind: "task.expiring", task: { id: "t-1", title: "Ship it", expiresAt } });
    expect(mail.subject).toBe("Task expiring: Ship it");
    expect(mail.text).toContain('The task "Ship it" expires at 2026-11-20 14:05 UTC.');
    expect(mail.text).toContain("Task id: t-1");
    expect(mail.html).toContain("expires at 2026-11-20 14:05 UTC");
  });

  it("renders an expired task in the past tense", () => {
    const mail = renderMail({ kind: "task.expired", task: { id: "t-2", title: "Late", expiresAt: 0 } });
    expect(mail.subject).toBe("Task expired: Late");
    expect(mail.text).toContain("expired at 1970-01-01 00:00 UTC");
  });

  it("lists every product change, from and to, in text and HTML", () => {
    const mail = renderMail(productMessage("Claw hammer"));
    expect(mail.text).toContain(
      'Changes:\n  name: Hammer -> Claw hammer\n  price: 18.50 -> 19.99\n  tags: (none) -> ["a"]',
    );
    expect(mail.html).toContain("<tr><td>price</td><td>18.50</td><td>19.99</td></tr>");
    expect(mail.html).toContain("<td>[&quot;a&quot;]</td>");
  });

  it("uses the right verb per action and omits an empty change list", () => {
    for (const [action, verb] of [
      ["create", "created"],
      ["delete", "deleted"],
    ] as const) {
      const mail = renderMail({
        ...(productMessage("Saw") as Extract<MailMessage, { kind: "product.changed" }>),
        action,
        changes: {},
      });
      expect(mail.subject).toBe(`Product ${verb}: Saw`);
      expect(mail.text).not.toContain("Changes:");
      expect(mail.html).not.toContain("<h2>");
    }
  });

  it("keeps the subject on one bounded line whatever the title holds", () => {
    const mail = renderMail({
      kind: "task.expiring",
      task: { id: "t", title: `line one\r\nBcc: victim@example.com\n${"x".repeat(500)}`, expiresAt: 0 },
    });
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject.startsWith("Task expiring: line one Bcc: victim@example.com x")).toBe(true);
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    expect(oneLine("a\u2028b\tc")).toBe("a b c");
  });

  it("gives notifications a title and a one-line body", () => {
    const n = renderNotification({ kind: "task.expired", task: { id: "t", title: "Pay\nrent", expiresAt: 0 } });
    expect(n).toEqual({
      title: "Task expired: Pay rent",
      body: 'The task "Pay rent" expired at 1970-01-01 00:00 UTC.',
    });
    expect(formatTime(Date.UTC(2030, 0, 2, 3, 4))).toBe("2030-01-02 03:04 UTC");
  });
});
