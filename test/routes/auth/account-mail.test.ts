import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleQueue } from "../../../src/queues";
import { api, createUser, expectProblem } from "../../helpers";
import { inbox, RESET_SUBJECT, VERIFY_SUBJECT } from "../../mail/inbox";
import { stubMailChannels } from "../../mail/stub";

/**
 * Verified email and password recovery, through the routes, the real outbox and the real mail consumer: the tokens
 * are read from the mails as they are sent (test/mail/inbox.ts), as their recipients would.
 */

type Pair = { access_token: string; refresh_token: string; user: { id: string; email_verified: boolean } };
type OutboxRow = {
  id: string;
  kind: string;
  status: string;
  suppressed_reason: string | null;
  text_body: string;
  html_body: string;
  sealed_token: string | null;
};
const box = inbox();

const unique = () => crypto.randomUUID().slice(0, 8);
let octet = 0;
const address = () => `198.19.${Math.floor(++octet / 250)}.${octet % 250}`;
const post = (path: string, json?: unknown, token?: string) =>
  box.fetch(path, { method: "POST", json, token, headers: { "cf-connecting-ip": address() } });

async function mails(email: string): Promise<OutboxRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, kind, status, suppressed_reason, text_body, html_body, sealed_token FROM outbox WHERE recipient_email = ? ORDER BY created_at, rowid",
  )
    .bind(email)
    .all<OutboxRow>();
  return results;
}

/** The token of the newest mail of that kind, once the consumer has sent it, as the recipient reads it. */
async function tokenFrom(email: string, kind: string): Promise<string> {
  await box.deliver();
  return box.tokenOf(email, kind === "account.verify-email" ? VERIFY_SUBJECT : RESET_SUBJECT);
}

async function register(): Promise<Pair & { email: string; password: string }> {
  const email = `acct-${unique()}@example.com`;
  const password = "a long enough password";
  const res = await post("/auth/register", { email, password });
  expect(res.status).toBe(201);
  return { ...((await res.json()) as Pair), email, password };
}

const me = async (token: string) => (await (await api("/auth/me", { token })).json()) as { email_verified: boolean };

describe("verified email", { timeout: 30_000 }, () => {
  it("a new account is unverified, gets a verification mail with a working single-use token", async () => {
    const user = await register();
    expect(user.user.email_verified).toBe(false);
    const [mail] = await mails(user.email);
    expect(mail?.kind).toBe("account.verify-email");
    const token = await tokenFrom(user.email, "account.verify-email");
    expect(box.to(user.email, VERIFY_SUBJECT).at(-1)?.text).toContain(`/verify-email#token=${token}`);
    const stored = await env.DB.prepare("SELECT token_hash FROM account_tokens WHERE email = ?")
      .bind(user.email)
      .first<{ token_hash: string }>();
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.token_hash).not.toBe(token);

    expect((await post("/auth/verify-email", { token })).status).toBe(204);
    expect((await me(user.access_token)).email_verified).toBe(true);
    await expectProblem(await post("/auth/verify-email", { token }), 400);
  });

  it("an expired token, a superseded one, and one for an address that changed are refused", async () => {
    const user = await register();
    const first = await tokenFrom(user.email, "account.verify-email");
    expect((await post("/auth/verify-email/resend", undefined, user.access_token)).status).toBe(202);
    // The resend retired the first token.
    await expectProblem(await post("/auth/verify-email", { token: first }), 400);
    const second = await tokenFrom(user.email, "account.verify-email");
    await env.DB.prepare("UPDATE account_tokens SET expires_at = ? WHERE email = ? AND used_at IS NULL")
      .bind(Date.now() - 1, user.email)
      .run();
    await expectProblem(await post("/auth/verify-email", { token: second }), 400);

    const other = await register();
    const token = await tokenFrom(other.email, "account.verify-email");
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(`moved-${other.email}`, other.user.id).run();
    await expectProblem(await post("/auth/verify-email", { token }), 400);
  });

  it("resend: 409 once verified, 429 with Retry-After past the account's own resend budget", async () => {
    const verified = await createUser("member");
    await expectProblem(await post("/auth/verify-email/resend", undefined, verified.token), 409);

    const user = await register();
    const max = Number(env.ACCOUNT_MAIL_MAX_PER_HOUR);
    for (let i = 0; i < max; i++) {
      expect((await post("/auth/verify-email/resend", undefined, user.access_token)).status).toBe(202);
    }
    const refused = await post("/auth/verify-email/resend", undefined, user.access_token);
    await expectProblem(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await mails(user.email)).filter((m) => m.kind === "account.verify-email")).toHaveLength(max + 1);
  });

  it("until verified, other mail to the address is suppressed and kept in-app; afterwards it is queued", async () => {
    const user = await register();
    const expired = new Date(Date.now() - 60_000).toISOString();
    const task = await api("/tasks", {
      method: "POST",
      token: user.access_token,
      json: { title: "Past due", expires_at: expired },
    });
    expect(task.status).toBe(201);
    const notice = (await mails(user.email)).find((m) => m.kind === "task.expired");
    expect(notice).toMatchObject({ status: "suppressed", suppressed_reason: "recipient_unverified" });
    const inApp = await env.DB.prepare("SELECT kind FROM notifications WHERE user_id = ?")
      .bind(user.user.id)
      .all<{ kind: string }>();
    expect(inApp.results.map((n) => n.kind)).toContain("task.expired");

    expect(
      (await post("/auth/verify-email", { token: await tokenFrom(user.email, "account.verify-email") })).status,
    ).toBe(204);
    await api("/tasks", {
      method: "POST",
      token: user.access_token,
      json: { title: "Also past", expires_at: expired },
    });
    const later = (await mails(user.email)).filter((m) => m.kind === "task.expired").at(-1);
    expect(later?.status).not.toBe("suppressed");
    expect(later?.suppressed_reason).toBeNull();
  });

  it("the mail consumer treats a suppressed row as done: acknowledged, never sent", async () => {
    const user = await register();
    await api("/tasks", {
      method: "POST",
      token: user.access_token,
      json: { title: "Quiet", expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    const row = (await mails(user.email)).find((m) => m.status === "suppressed")!;
    const stub = stubMailChannels(() => new Response(null, { status: 202 }));
    try {
      const batch = createMessageBatch("mail", [
        { id: "m1", timestamp: new Date(), attempts: 1, body: { id: row.id } },
      ]);
      const ctx = createExecutionContext();
      await handleQueue(batch, { ...env, MAILCHANNELS_API_KEY: "k" } as Env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual(["m1"]);
      expect(stub.requests).toHaveLength(0);
    } finally {
      stub.restore();
    }
    expect((await mails(user.email)).find((m) => m.id === row.id)?.status).toBe("suppressed");
  });

  it("accounts an admin creates are verified", async () => {
    const admin = await createUser("admin");
    const res = await api("/users", {
      method: "POST",
      token: admin.token,
      json: { email: `made-${unique()}@example.com`, username: `made-${unique()}`, password: "a long enough password" },
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string; email_verified: boolean };
    expect(made.email_verified).toBe(true);
    const listed = (await (await api(`/users/${made.id}`, { token: admin.token })).json()) as {
      email_verified: boolean;
    };
    expect(listed.email_verified).toBe(true);
  });
});

describe("forgot password", { timeout: 30_000 }, () => {
  it("mails the address's account a reset link, and nothing to an unknown address", async () => {
    const user = await createUser("member");
    const unknown = `nobody-${unique()}@example.com`;
    expect((await post("/auth/password/forgot", { email: user.email })).status).toBe(202);
    expect((await post("/auth/password/forgot", { email: unknown })).status).toBe(202);
    await box.deliver();
    expect((await mails(user.email)).map((m) => m.kind)).toEqual(["account.password-reset"]);
    expect(await mails(unknown)).toEqual([]);
    expect(box.to(unknown)).toEqual([]);
  });

  it("mails once while the newest link still works, answering 202 all the same", async () => {
    const user = await createUser("member");
    for (let i = 0; i < 4; i++) {
      expect((await post("/auth/password/forgot", { email: user.email })).status).toBe(202);
    }
    await box.deliver();
    expect(await mails(user.email)).toHaveLength(1);
  });
});

describe("password reset", { timeout: 30_000 }, () => {
  async function forgot(email: string) {
    expect((await post("/auth/password/forgot", { email })).status).toBe(202);
    return tokenFrom(email, "account.password-reset");
  }

  it("sets the password, ends every token, verifies the address; the token works once", async () => {
    const user = await register();
    expect(user.user.email_verified).toBe(false);
    const token = await forgot(user.email);
    expect((await post("/auth/password/reset", { token, password: "the new password" })).status).toBe(204);

    await expectProblem(await api("/auth/me", { token: user.access_token }), 401);
    await expectProblem(await post("/auth/refresh", { refresh_token: user.refresh_token }), 401);
    await expectProblem(await post("/auth/login", { email: user.email, password: user.password }), 401);
    const signedIn = await post("/auth/login", { email: user.email, password: "the new password" });
    expect(signedIn.status).toBe(200);
    expect(((await signedIn.json()) as Pair).user.email_verified).toBe(true);

    await expectProblem(await post("/auth/password/reset", { token, password: "yet another password" }), 400);
  });

  it("refuses an expired token and one for a deleted user", async () => {
    const user = await createUser("member");
    const token = await forgot(user.email);
    await env.DB.prepare("UPDATE account_tokens SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, user.id)
      .run();
    await expectProblem(await post("/auth/password/reset", { token, password: "the new password" }), 400);

    const root = await createUser("superuser");
    const doomed = await createUser("member");
    const doomedToken = await forgot(doomed.email);
    expect((await api(`/users/${doomed.id}`, { method: "DELETE", token: root.token })).status).toBe(204);
    await expectProblem(await post("/auth/password/reset", { token: doomedToken, password: "the new password" }), 400);
  });

  it("a refused password leaves the token usable; two parallel uses, exactly one wins", async () => {
    const user = await createUser("member");
    const token = await forgot(user.email);
    const refused = await expectProblem(await post("/auth/password/reset", { token, password: user.email }), 422);
    expect(refused.errors?.[0]?.path).toBe("password");
    const both = await Promise.all([
      post("/auth/password/reset", { token, password: "first new password" }),
      post("/auth/password/reset", { token, password: "second new password" }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([204, 400]);
  });

  it("a garbage token is 400, a missing field 422", async () => {
    await expectProblem(await post("/auth/password/reset", { token: "nope", password: "the new password" }), 400);
    await expectProblem(await post("/auth/password/reset", { token: "nope" }), 422);
    await expectProblem(await post("/auth/verify-email", {}), 422);
  });
});

describe("no caching of secrets", { timeout: 30_000 }, () => {
  it("every auth answer and every signed-in read is no-store; signed-in answers vary by Authorization", async () => {
    const user = await createUser("member");
    const login = await post("/auth/login", { email: user.email, password: user.password });
    const pair = (await login.clone().json()) as Pair;
    const answers: [string, Response][] = [
      ["login", login],
      ["register", await post("/auth/register", { email: `ns-${unique()}@example.com`, password: "long enough pw" })],
      ["refresh", await post("/auth/refresh", { refresh_token: pair.refresh_token })],
      ["failed login", await post("/auth/login", { email: user.email, password: "wrong" })],
      ["forgot", await post("/auth/password/forgot", { email: user.email })],
      ["me", await api("/auth/me", { token: pair.access_token })],
      ["tasks", await api("/tasks", { token: pair.access_token })],
      ["notifications", await api("/notifications", { token: pair.access_token })],
    ];
    for (const [label, res] of answers) {
      expect(res.headers.get("cache-control"), label).toBe("private, no-store");
    }
    for (const [label, res] of answers.slice(-3)) {
      expect(res.headers.get("vary") ?? "", label).toMatch(/Authorization/i);
    }
  });
});

describe("live account tokens never rest in clear", () => {
  it("the outbox holds a placeholder and a sealed token, erased once the mail is sent", async () => {
    const user = await register();
    const [row] = await mails(user.email);
    expect(row?.text_body).toContain("[withheld");
    expect(row?.sealed_token).toEqual(expect.any(String));
    const token = await tokenFrom(user.email, "account.verify-email");
    const [after] = await mails(user.email);
    expect(after?.status).toBe("sent");
    expect(after?.sealed_token).toBeNull();
    // Nowhere in the database: not in the bodies, not in any other column, not in the token table (a hash only).
    const dump = JSON.stringify([
      (await env.DB.prepare("SELECT * FROM outbox").all()).results,
      (await env.DB.prepare("SELECT * FROM account_tokens").all()).results,
    ]);
    expect(dump).not.toContain(token);
  });

  it("an admin reading a superuser's reset mail sees it withheld", async () => {
    const root = await createUser("superuser");
    const admin = await createUser("admin");
    expect((await post("/auth/password/forgot", { email: root.email })).status).toBe(202);
    const token = await tokenFrom(root.email, "account.password-reset");
    const [row] = (await mails(root.email)).filter((m) => m.kind === "account.password-reset");
    const res = await api(`/admin/outbox/${row!.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    const shown = (await res.json()) as { text_body: string; html_body: string };
    expect(shown.text_body).not.toContain(token);
    expect(shown.html_body).not.toContain(token);
    expect(shown.text_body).toContain("[withheld");
  });
});
