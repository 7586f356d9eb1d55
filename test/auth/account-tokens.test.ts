import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { claimAccountToken, issueAccountToken } from "../../src/auth/account-tokens";
import { getDb } from "../../src/db/client";
import { createUser } from "../helpers";

/** What one account can hold in account_tokens: one row per purpose, whatever it asks for. */
describe("account_tokens stays at one row per purpose and account", () => {
  it("ten verification and ten reset tokens leave two rows; spending one deletes it", async () => {
    const db = getDb(env.DB);
    const user = await createUser("member");
    let last = "";
    for (let i = 0; i < 10; i++) {
      for (const purpose of ["verify_email", "password_reset"] as const) {
        const { issued, statements } = await issueAccountToken(db, user, purpose, Date.now() + i);
        await db.batch([...statements]);
        if (purpose === "password_reset") last = issued.token;
      }
    }
    const count = async () =>
      (
        await env.DB.prepare("SELECT count(*) AS n FROM account_tokens WHERE user_id = ?")
          .bind(user.id)
          .first<{ n: number }>()
      )?.n;
    expect(await count()).toBe(2);
    expect(await claimAccountToken(db, last, "password_reset", Date.now() + 20)).toMatchObject({ userId: user.id });
    expect(await count()).toBe(1);
  });
});
