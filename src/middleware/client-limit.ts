import { createMiddleware } from "hono/factory";
import { addressKeyOf } from "../auth/client";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/** The PUBLIC_LIMITER window (wrangler.toml `[[ratelimits]]`), sent as Retry-After when a client is over it. */
export const CLIENT_WINDOW_SECONDS = 10;

/**
 * A backstop on every /api request per client address: the Workers Rate Limiting binding (counted at the edge, in
 * memory, no D1), far above what a person or the page sends. It stops a flood of requests that each cost something
 * (a D1 read for a random search term or a guessed token) before any of that work. The feature limits (sign-in,
 * sign-up, mail, cursor ingestion) stay as they are, each stricter on its own path.
 *
 * Keyed like every per-client limit (addressKeyOf: `CF-Connecting-IP`, which only Cloudflare sets in production, an
 * IPv6 client by its /64). Loopback addresses in development are not counted (`npm start` and its benchmark would
 * otherwise share one bucket); tests flood it with other addresses.
 */
export const clientLimit = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.method === "OPTIONS" ? null : addressKeyOf(c);
  if (key) {
    const { success } = await c.env.PUBLIC_LIMITER.limit({ key });
    if (!success) {
      throw new ApiError("rate_limited", "Too many requests from this address; slow down.", {
        headers: { "Retry-After": String(CLIENT_WINDOW_SECONDS) },
      });
    }
  }
  await next();
});
