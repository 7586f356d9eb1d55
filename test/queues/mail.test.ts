import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleQueue } from "../../src/queues";
import { MAIL_MAX_RETRIES, SEND_LEASE_MS } from "../../src/queues/mail";
import wranglerToml from "../../wrangler.toml?raw";
import { insertOutbox, outboxRow, stubMailChannels } from "../mail/stub";

const KEYED = { ...env, MAILCHANNELS_API_KEY: "test-key-123" } as Env;

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
  vi.restoreAllMocks();
});

function quiet() {
  for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation(() => {});
}

/** Runs one `mail` batch through the Worker's queue entry point and returns the ack/retry state. */
async function deliver(ids: string[], attempts = 1, e: Env = KEYED, queue = "mail") {
  const batch = createMessageBatch(
    queue,
    ids.map((id, i) => ({ id: `msg-${i}-${id}`, timestamp: new Date(), attempts, body: { id } })),
  );
  // getQueueResult reports which messages were retried but not their delay, so record the delays on the way.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handleQueue(batch, e, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map((m) => ({ ...m, delaySeconds: delays.get(m.msgId) })) };
}

describe("mail consumer: sending through MailChannels", () => {
  it("posts the recorded mail to /tx/v1/send with the API key, and marks the row sent", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "ada@example.com", name: "Ada Lovelace" }]);
    const before = await outboxRow(id!);

    const result = await deliver([id!]);

    expect(result.explicitAcks).toEqual([`msg-0-${id}`]);
    expect(result.retryMessages).toEqual([]);
    expect(stub.requests).toHaveLength(1);
    const request = stub.requests[0]!;
    expect(request.url).toBe("https://mailchannels.test/tx/v1/send");
    expect(request.method).toBe("POST");
    expect(request.headers.get("x-api-key")).toBe("test-key-123");
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.body).toEqual({
      personalizations: [{ to: [{ email: "ada@example.com", name: "Ada Lovelace" }] }],
      from: { email: env.MAIL_FROM_EMAIL, name: env.MAIL_FROM_NAME },
      subject: before.subject,
      content: [
        { type: "text/plain", value: before.textBody },
        { type: "text/html", value: before.htmlBody },
      ],
    });
    const after = await outboxRow(id!);
    expect(after.status).toBe("sent");
    expect(after.attempts).toBe(1);
    expect(after.sentAt).toBeTypeOf("number");
    expect(after.lastError).toBeNull();
  });

  it("adds the DKIM fields when domain, selector and private key are all configured", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response("{}", { status: 200 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "dkim@example.com" }]);
    const withDkim = { ...KEYED, DKIM_DOMAIN: "example.com", DKIM_SELECTOR: "mcdkim", DKIM_PRIVATE_KEY: "base64key" };
    await deliver([id!], 1, withDkim as Env);
    expect(stub.requests[0]!.body).toMatchObject({
      personalizations: [{ to: [{ email: "dkim@example.com" }] }],
      dkim_domain: "example.com",
      dkim_selector: "mcdkim",
      dkim_private_key: "base64key",
    });
    expect((await outboxRow(id!)).status).toBe("sent");
  });

  it("retries a 500 with exponential backoff and records the error, then sends on the next delivery", async () => {
    quiet();
    const stub = stubMailChannels((n) =>
      n === 1 ? new Response("upstream exploded", { status: 500 }) : new Response(null, { status: 202 }),
    );
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "retry500@example.com" }]);

    const first = await deliver([id!], 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([{ msgId: `msg-0-${id}`, delaySeconds: 2 }]);
    let row = await outboxRow(id!);
    expect(row.status).toBe("retrying");
    expect(row.attempts).toBe(1);
    expect(row.lastError).toBe("HTTP 500: upstream exploded");

    const third = await deliver([id!], 3);
    expect(third.explicitAcks).toEqual([`msg-0-${id}`]);
    row = await outboxRow(id!);
    expect(row.status).toBe("sent");
    expect(row.attempts).toBe(2);
    expect(row.lastError).toBeNull();
    expect(stub.requests).toHaveLength(2);
  });

  it("backs off longer on each delivery", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response("busy", { status: 503 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "backoff@example.com" }]);
    const delays: (number | undefined)[] = [];
    for (const attempts of [1, 2, 3, 4]) delays.push((await deliver([id!], attempts)).retryMessages[0]?.delaySeconds);
    expect(delays).toEqual([2, 4, 8, 16]);
    expect((await outboxRow(id!)).attempts).toBe(4);
  });

  it("retries a network error", async () => {
    quiet();
    const stub = stubMailChannels(() => new TypeError("connection reset by peer"));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "network@example.com" }]);
    const result = await deliver([id!], 2);
    expect(result.retryMessages).toEqual([{ msgId: `msg-0-${id}`, delaySeconds: 4 }]);
    const row = await outboxRow(id!);
    expect(row.status).toBe("retrying");
    expect(row.lastError).toBe("network error: connection reset by peer");
  });

  it("retries a 429 no sooner than its Retry-After", async () => {
    quiet();
    const stub = stubMailChannels(
      () => new Response(JSON.stringify({ message: "slow down" }), { status: 429, headers: { "retry-after": "90" } }),
    );
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "ratelimited@example.com" }]);
    const result = await deliver([id!], 1);
    expect(result.retryMessages).toEqual([{ msgId: `msg-0-${id}`, delaySeconds: 90 }]);
    expect((await outboxRow(id!)).lastError).toBe("HTTP 429: slow down");
  });

  it("fails for good on a 400 with the provider's message, and does not retry", async () => {
    quiet();
    const stub = stubMailChannels(
      () =>
        new Response(JSON.stringify({ errors: ["Domain Lockdown: sender not authorised"] }), {
          status: 400,
          headers: { "content-type": "application/json" },
        }),
    );
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "refused@example.com" }]);
    const result = await deliver([id!], 1);
    expect(result.explicitAcks).toEqual([`msg-0-${id}`]);
    expect(result.retryMessages).toEqual([]);
    const row = await outboxRow(id!);
    expect(row.status).toBe("failed");
    expect(row.lastError).toBe("HTTP 400: Domain Lockdown: sender not authorised");
    expect(row.sentAt).toBeNull();
  });

  it("acks and retries each message of a batch on its own", async () => {
    quiet();
    const stub = stubMailChannels((_n, request) => {
      const to = (request.body as { personalizations: { to: { email: string }[] }[] }).personalizations[0]!.to[0]!;
      return to.email.startsWith("bad") ? new Response("x", { status: 502 }) : new Response(null, { status: 202 });
    });
    restore = stub.restore;
    const [good, bad] = await insertOutbox([{ email: "good@example.com" }, { email: "bad@example.com" }]);
    const result = await deliver([good!, bad!], 1);
    expect(result.explicitAcks).toEqual([`msg-0-${good}`]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([`msg-1-${bad}`]);
    expect((await outboxRow(good!)).status).toBe("sent");
    expect((await outboxRow(bad!)).status).toBe("retrying");
  });
});

describe("mail consumer: idempotency", () => {
  it("never mails twice when the same message is delivered again", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "once@example.com" }]);
    await deliver([id!], 1);
    const again = await deliver([id!], 2);
    expect(again.explicitAcks).toEqual([`msg-0-${id}`]);
    expect(again.retryMessages).toEqual([]);
    expect(stub.requests).toHaveLength(1);
    const row = await outboxRow(id!);
    expect(row.status).toBe("sent");
    expect(row.attempts).toBe(1);
  });

  it("sends once when two copies of the message arrive in the same batch", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "twins@example.com" }]);
    const result = await deliver([id!, id!], 1);
    // One copy sends and is acked; the other found the row claimed and comes back after the lease.
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.delaySeconds).toBe(SEND_LEASE_MS / 1000);
    expect(stub.requests).toHaveLength(1);
    expect(await outboxRow(id!)).toMatchObject({ status: "sent", attempts: 1 });
    // When it comes back, the row is done: acknowledged without a second mail.
    const again = await deliver([id!], 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect(stub.requests).toHaveLength(1);
  });

  it("never sends while another delivery holds the row mid-send, and takes over a claim whose lease ran out", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "in-flight@example.com" }]);
    // Another delivery claimed the row a moment ago and is still waiting for MailChannels.
    await env.DB.prepare("UPDATE outbox SET status = 'sending', attempts = 1, updated_at = ? WHERE id = ?")
      .bind(Date.now() - 1_000, id)
      .run();
    const busy = await deliver([id!], 1);
    expect(stub.requests).toHaveLength(0);
    expect(busy.explicitAcks).toEqual([]);
    expect(busy.retryMessages.map((m) => m.delaySeconds)).toEqual([SEND_LEASE_MS / 1000]);
    expect((await outboxRow(id!)).status).toBe("sending");

    // That delivery died mid-send: once its lease has run out, the next delivery sends.
    await env.DB.prepare("UPDATE outbox SET updated_at = ? WHERE id = ?")
      .bind(Date.now() - SEND_LEASE_MS - 1_000, id)
      .run();
    const taken = await deliver([id!], 2);
    expect(taken.explicitAcks).toHaveLength(1);
    expect(stub.requests).toHaveLength(1);
    expect(await outboxRow(id!)).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("acks without sending for rows already failed or recorded, and for unknown or malformed messages", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [refused] = await insertOutbox([{ email: "refused-before@example.com" }]);
    await env.DB.prepare("UPDATE outbox SET status = 'failed' WHERE id = ?").bind(refused).run();
    const result = await deliver([refused!, crypto.randomUUID()], 1);
    expect(result.explicitAcks).toHaveLength(2);

    const batch = createMessageBatch("mail", [
      { id: "junk", timestamp: new Date(), attempts: 1, body: "not an object" },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, KEYED, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["junk"]);
    expect(stub.requests).toHaveLength(0);
    expect((await outboxRow(refused!)).status).toBe("failed");
  });
});

describe("mail consumer: without an API key", () => {
  it("records the mail and logs it instead of sending", async () => {
    quiet();
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "offline@example.com" }]);
    const result = await deliver([id!], 1, { ...env, MAILCHANNELS_API_KEY: "" } as Env);
    expect(result.explicitAcks).toEqual([`msg-0-${id}`]);
    expect(stub.requests).toHaveLength(0);
    const row = await outboxRow(id!);
    expect(row.status).toBe("recorded");
    expect(row.attempts).toBe(1);
    const logged = info.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/recorded, not sent/), outbox_id: id }),
    );
  });
});

describe("mail consumer: dead letters", () => {
  it("keeps max_retries in wrangler.toml and the code in step, with mail-dlq as the dead-letter queue", () => {
    const consumers = wranglerToml.split("[[queues.consumers]]").slice(1);
    const mail = consumers.find((c) => /^\s*queue\s*=\s*"mail"\s*$/m.test(c));
    expect(mail).toBeDefined();
    expect(mail).toMatch(new RegExp(`^max_retries\\s*=\\s*${MAIL_MAX_RETRIES}\\s*$`, "m"));
    expect(mail).toMatch(/^dead_letter_queue\s*=\s*"mail-dlq"\s*$/m);
    expect(consumers.some((c) => /^\s*queue\s*=\s*"mail-dlq"\s*$/m.test(c))).toBe(true);
  });

  it("retries on the last delivery (which dead-letters it), and the mail-dlq consumer marks the row failed", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response("still down", { status: 500 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "doomed@example.com" }]);
    // Deliveries 1..MAIL_MAX_RETRIES+1; the last retry() is what the platform turns into a move to mail-dlq.
    for (let attempts = 1; attempts <= MAIL_MAX_RETRIES + 1; attempts++) {
      const result = await deliver([id!], attempts);
      expect(result.retryMessages).toHaveLength(1);
    }
    let row = await outboxRow(id!);
    expect(row.status).toBe("retrying");
    expect(row.attempts).toBe(MAIL_MAX_RETRIES + 1);

    const dlq = await deliver([id!], 1, KEYED, "mail-dlq");
    expect(dlq.explicitAcks).toEqual([`msg-0-${id}`]);
    row = await outboxRow(id!);
    expect(row.status).toBe("failed");
    expect(row.lastError).toBe(
      `HTTP 500: still down; gave up after ${MAIL_MAX_RETRIES + 1} deliveries (dead-lettered)`,
    );
    expect(stub.requests).toHaveLength(MAIL_MAX_RETRIES + 1);
  });

  it("leaves a row that was sent meanwhile alone when its message reaches mail-dlq", async () => {
    quiet();
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const [id] = await insertOutbox([{ email: "late@example.com" }]);
    await deliver([id!], 1);
    const dlq = await deliver([id!], 1, KEYED, "mail-dlq");
    expect(dlq.explicitAcks).toHaveLength(1);
    expect((await outboxRow(id!)).status).toBe("sent");
  });

  it("a real message sent to the mail queue is consumed by the Worker (recorded, since tests have no key)", async () => {
    quiet();
    const [id] = await insertOutbox([{ email: "real-queue@example.com" }]);
    await env.MAIL_QUEUE.send({ id: id! });
    await vi.waitFor(async () => expect((await outboxRow(id!)).status).toBe("recorded"), {
      timeout: 10_000,
      interval: 100,
    });
  });
});

describe("mail consumer: suppressed mail", () => {
  it("acknowledges a suppressed row without sending or retrying it, and logs one line for the batch", async () => {
    const logs: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: unknown) => {
        logs.push(String(line));
      });
    }
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    restore = stub.restore;
    const email = `over-budget-${crypto.randomUUID()}@example.com`;
    const ids: string[] = [];
    for (let i = 0; i < 21; i++) ids.push(...(await insertOutbox([{ email }])));
    const suppressed = ids.at(-1)!;
    expect(await outboxRow(suppressed)).toMatchObject({ status: "suppressed", suppressedReason: "recipient_budget" });

    const result = await deliver([ids[0]!, suppressed]);
    expect(result.explicitAcks.sort()).toEqual([`msg-0-${ids[0]}`, `msg-1-${suppressed}`].sort());
    expect(result.retryMessages).toEqual([]);
    // Only the mail within budget reached MailChannels.
    expect(stub.requests).toHaveLength(1);
    expect(await outboxRow(suppressed)).toMatchObject({ status: "suppressed", attempts: 0, sentAt: null });
    expect((await outboxRow(ids[0]!)).status).toBe("sent");

    const batchLines = logs.map((line) => JSON.parse(line)).filter((entry) => entry.message === "mail batch");
    expect(batchLines).toEqual([expect.objectContaining({ queue: "mail", messages: 2, sent: 1, suppressed: 1 })]);
  });
});
