import { deleteInPages } from "../cron/prune-processed";

/**
 * Expired sign-ins and mailed tokens of accounts that never come back: issuing and spending delete a user's own
 * (src/auth/refresh.ts, src/auth/account-tokens.ts), and this daily job deletes the rest once expired, a page at a
 * time through their expires_at indexes. An expired refresh row guards nothing: the access tokens of its sign-in expired long before it did.
 */
export async function pruneAccountTokens(env: Env, now: Date) {
  const at = now.getTime();
  const [refresh, mailed] = await Promise.all([
    deleteInPages(env.DB, "refresh_tokens", "id", "expires_at", at),
    deleteInPages(env.DB, "account_tokens", "id", "expires_at", at),
  ]);
  return { refresh_tokens: refresh, account_tokens: mailed };
}
