import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MailChannelsMailer,
  mailChannelsBody,
  mailerFromEnv,
  parseRetryAfter,
  providerMessage,
} from "../../src/mail/mailchannels";
import type { OutgoingMail } from "../../src/mail/mailer";
import { stubMailChannels } from "./stub";

const MAIL: OutgoingMail = {
  to: { email: "to@example.com", name: "To Person" },
  from: { email: "from@example.com", name: "Backoffice" },
  subject: "Hello",
  text: "plain",
  html: "<p>html</p>",
};

afterEach(() => vi.restoreAllMocks());

describe("MailChannels request", () => {
  it("builds personalizations, from, subject and text-then-HTML content; no DKIM fields unless configured", () => {
    expect(mailChannelsBody({ ...MAIL, to: { email: "x@example.com", name: null } })).toEqual({
      personalizations: [{ to: [{ email: "x@example.com" }] }],
      from: { email: "from@example.com", name: "Backoffice" },
      subject: "Hello",
      content: [
        { type: "text/plain", value: "plain" },
        { type: "text/html", value: "<p>html</p>" },
      ],
    });
  });

  it("trims a trailing slash of the base URL", async () => {
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    const mailer = new MailChannelsMailer({ apiUrl: "https://mailchannels.test/", apiKey: "k" });
    expect(await mailer.send(MAIL)).toEqual({ outcome: "sent", status: 202 });
    expect(stub.requests[0]!.url).toBe("https://mailchannels.test/tx/v1/send");
  });

  it("gives up on a provider that does not answer within the timeout, as retryable", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    const mailer = new MailChannelsMailer({ apiUrl: "https://mailchannels.test", apiKey: "k", timeoutMs: 20 });
    expect(await mailer.send(MAIL)).toEqual({ outcome: "retry", error: "timed out after 20 ms" });
  });

  it("classifies answers: 2xx sent, 5xx and 429 retry, other 4xx final", async () => {
    const statuses = [200, 202, 500, 503, 429, 400, 401, 403, 413, 422];
    const stub = stubMailChannels((n) => new Response(`status ${statuses[n - 1]}`, { status: statuses[n - 1]! }));
    const mailer = new MailChannelsMailer({ apiUrl: env.MAILCHANNELS_API_URL, apiKey: "k" });
    const outcomes: string[] = [];
    for (const _ of statuses) outcomes.push((await mailer.send(MAIL)).outcome);
    expect(outcomes).toEqual([
      "sent",
      "sent",
      "retry",
      "retry",
      "retry",
      "failed",
      "failed",
      "failed",
      "failed",
      "failed",
    ]);
    expect(stub.requests).toHaveLength(statuses.length);
  });
});

describe("provider messages and hints", () => {
  it("prefers errors[], then message, then error, then the raw text, and bounds the length", async () => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 400 });
    expect(await providerMessage(json({ errors: ["a", "b"] }))).toBe("HTTP 400: a; b");
    expect(await providerMessage(json({ message: "m" }))).toBe("HTTP 400: m");
    expect(await providerMessage(json({ error: "e" }))).toBe("HTTP 400: e");
    expect(await providerMessage(new Response("plain words", { status: 403 }))).toBe("HTTP 403: plain words");
    expect(await providerMessage(new Response(null, { status: 401 }))).toBe("HTTP 401");
    expect((await providerMessage(new Response("x".repeat(5000), { status: 400 }))).length).toBe(500);
  });

  it("reads Retry-After as seconds or as a date", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("configuration", () => {
  it("has no mailer without an API key, so mail is recorded", () => {
    expect(mailerFromEnv({ ...env, MAILCHANNELS_API_KEY: "" } as Env)).toBeNull();
    expect(mailerFromEnv({ ...env, MAILCHANNELS_API_KEY: "   " } as Env)).toBeNull();
    expect(mailerFromEnv({ ...env, MAILCHANNELS_API_KEY: "k" } as Env)?.endpoint).toBe(
      "https://mailchannels.test/tx/v1/send",
    );
  });

  it("signs with DKIM only when domain, selector and key are all set", async () => {
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    const partial = { ...env, MAILCHANNELS_API_KEY: "k", DKIM_DOMAIN: "example.com", DKIM_SELECTOR: "s1" } as Env;
    await mailerFromEnv({ ...partial, DKIM_PRIVATE_KEY: "" } as Env)!.send(MAIL);
    await mailerFromEnv({ ...partial, DKIM_PRIVATE_KEY: "pk" } as Env)!.send(MAIL);
    expect(stub.requests[0]!.body).not.toHaveProperty("dkim_domain");
    expect(stub.requests[1]!.body).toMatchObject({
      dkim_domain: "example.com",
      dkim_selector: "s1",
      dkim_private_key: "pk",
    });
  });
});
