import { createMiddleware } from "hono/factory";
import { LOOPBACK } from "../auth/client";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { settings } from "../lib/settings";

/** The PUBLIC_LIMITER window (wrangler.toml `[[ratelimits]]`), sent as Retry-After when a client is over it. */
export const CLIENT_WINDOW_SECONDS = 10;

/**
 * A backstop on every /api request per client address: the Workers Rate Limiting binding (counted at the edge, in
 * memory, no D1), far above what a person or the page sends. It stops a flood of requests that each cost something
 * (a D1 read for a random search term or a guessed token) before any of that work. The feature limits (sign-in,
 * sign-up, mail, cursor ingestion) stay as they are, each stricter on its own path.
 *
 * Keyed by `CF-Connecting-IP`, which only Cloudflare sets in production. Loopback addresses in development are not
 * counted (`npm start` and its benchmark would otherwise share one bucket); tests flood it with other addresses.
 */
export const clientLimit = createMiddleware<AppEnv>(async (c, next) => {
  const address = c.req.header("cf-connecting-ip")?.trim();
  if (address && c.req.method !== "OPTIONS" && (settings(c.env).production || !LOOPBACK.test(address))) {
    const { success } = await c.env.PUBLIC_LIMITER.limit({ key: address });
    if (!success) {
      throw new ApiError("rate_limited", "Too many requests from this address; slow down.", {
        headers: { "Retry-After": String(CLIENT_WINDOW_SECONDS) },
      });
    }
  }
  await next();
});
