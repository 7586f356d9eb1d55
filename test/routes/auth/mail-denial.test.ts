import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../../helpers";
import { type Inbox, inbox, RESET_SUBJECT, VERIFY_SUBJECT } from "../../mail/inbox";

/**
 * A stranger must not be able to keep an owner from getting account mail (the mail-denial finding): requests for
 * someone else's address cannot use up the owner's resend, cannot retire the reset link the owner is holding, and
 * cannot leave the owner without a working reset link; the per-address limit against mail bombing still holds.
 */

const MAX = Number(env.ACCOUNT_MAIL_MAX_PER_HOUR);
let octet = 0;
/** A fresh client address per request: a stranger spreads requests over many, so only per-address limits apply. */
const stranger = () => ({ "cf-connecting-ip": `203.0.113.${++octet % 250}`, "x-client-id": `stranger-${octet}` });

async function registered(box: Inbox) {
  const email = `owner-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const res = await box.fetch("/auth/register", {
    method: "POST",
    json: { email, password: "the owner's own password" },
    headers: stranger(),
  });
  expect(res.status).toBe(201);
  const pair = (await res.json()) as { access_token: string };
  await box.deliver();
  return { email, token: pair.access_token };
}

const forgot = (box: Inbox, email: string) =>
  box.fetch("/auth/password/forgot", { method: "POST", json: { email }, headers: stranger() });

const reset = (box: Inbox, token: string, password = "a new password for the owner") =>
  box.fetch("/auth/password/reset", { method: "POST", json: { token, password } });

/** Moves every account-mail trace of `email` `ms` into the past, as if that much time had gone by. */
async function elapse(email: string, ms: number) {
  await env.DB.batch([
    env.DB.prepare(
      "UPDATE account_tokens SET created_at = created_at - ?1, expires_at = expires_at - ?1 WHERE email = ?2",
    ).bind(ms, email),
    env.DB.prepare(
      "UPDATE outbox SET created_at = created_at - ?1, updated_at = updated_at - ?1 WHERE recipient_email = ?2",
    ).bind(ms, email),
    env.DB.prepare("UPDATE rate_limits SET window_start = window_start - ?1 WHERE key LIKE ?2").bind(ms, `%:${email}`),
  ]);
}

describe("account mail cannot be denied by strangers", { timeout: 60_000 }, () => {
  it("the signed-in owner's resend has a budget of its own: strangers' forgot requests leave it working", async () => {
    const box = inbox();
    const owner = await registered(box);
    for (let i = 0; i < MAX + 2; i++) expect((await forgot(box, owner.email)).status).toBe(202);
    await box.deliver();
    const resend = await box.fetch("/auth/verify-email/resend", { method: "POST", token: owner.token });
    expect(resend.status).toBe(202);
    await box.deliver();
    const token = box.tokenOf(owner.email, VERIFY_SUBJECT);
    expect((await box.fetch("/auth/verify-email", { method: "POST", json: { token } })).status).toBe(204);
  });

  it("the reset link the owner asked for keeps working while strangers ask for more", async () => {
    const box = inbox();
    const owner = await registered(box);
    expect((await forgot(box, owner.email)).status).toBe(202);
    await box.deliver();
    const own = box.tokenOf(owner.email, RESET_SUBJECT);
    for (let i = 0; i < MAX + 2; i++) await forgot(box, owner.email);
    await box.deliver();
    expect((await reset(box, own)).status).toBe(204);
  });

  it("the newest reset mail always works, and after the links expire the owner's own request mails a new one", async () => {
    const box = inbox();
    const owner = await registered(box);
    for (let i = 0; i < MAX + 2; i++) await forgot(box, owner.email);
    await box.deliver();
    const flood = box.to(owner.email, RESET_SUBJECT);
    expect(flood.length).toBeGreaterThan(0);
    expect(flood.length).toBeLessThanOrEqual(MAX);

    // 40 minutes later every link of the flood has expired (30 minutes), inside the hour the budget counts.
    await elapse(owner.email, 40 * 60_000);
    expect((await forgot(box, owner.email)).status).toBe(202);
    await box.deliver();
    expect(box.to(owner.email, RESET_SUBJECT).length).toBe(flood.length + 1);
    expect((await reset(box, box.tokenOf(owner.email, RESET_SUBJECT))).status).toBe(204);
  });

  it(`still no more than ${MAX} reset mails an hour to one address, however many clients ask`, async () => {
    const box = inbox();
    const owner = await registered(box);
    for (let i = 0; i < 12; i++) expect((await forgot(box, owner.email)).status).toBe(202);
    await box.deliver();
    expect(box.to(owner.email, RESET_SUBJECT).length).toBeLessThanOrEqual(MAX);
    expect(box.to(owner.email, RESET_SUBJECT).length).toBeGreaterThan(0);
  });

  it("the owner's own resend is limited per account (429 past the budget), whatever strangers did", async () => {
    const box = inbox();
    const owner = await registered(box);
    for (let i = 0; i < MAX; i++) {
      expect((await box.fetch("/auth/verify-email/resend", { method: "POST", token: owner.token })).status).toBe(202);
    }
    await expectProblem(await box.fetch("/auth/verify-email/resend", { method: "POST", token: owner.token }), 429);
  });
});
