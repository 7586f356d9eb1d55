import type { Context } from "hono";
import { settings } from "../lib/settings";
import { sha256Hex } from "./tokens";

export const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The key a request's client is counted under (sign-up, account creation, sign-in per address, forgot-password).
 *
 * - Behind Cloudflare (`ENVIRONMENT=production`, and any non-loopback address): `CF-Connecting-IP`, which the edge
 *   sets to the connecting address and clients cannot forge there.
 * - Local runs: `wrangler dev` fills `CF-Connecting-IP` from the socket's address without its port, so every local
 *   client is `127.0.0.1`; tests calling the Worker directly have no address at all. Either way the key is one per
 *   client instead: the `X-Client-Id` header when a script or test sends one, else the `User-Agent`. So a browser,
 *   curl and a test run each get their own bucket instead of locking each other out. Both headers are chosen by the
 *   client, which is why this applies only off Cloudflare.
 */
export async function clientKey(c: Context): Promise<string> {
  const address = c.req.header("cf-connecting-ip")?.trim();
  const production = settings(c.env as Env).production;
  if (address && (production || !LOOPBACK.test(address))) return address;
  const id = c.req.header("x-client-id") ?? c.req.header("user-agent") ?? "";
  return `local-${(await sha256Hex(id)).slice(0, 16)}`;
}
