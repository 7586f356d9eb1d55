import type { Context } from "hono";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { errorFields, log } from "../../lib/log";

/**
 * Anonymous catalog reads from the Cache API (`caches.default`, this data center's cache) and their validators.
 *
 * Keys live under a host that is never fetched. An item is keyed by its sku and purged by key on every write. A list
 * has as many keys as query strings, which cannot be listed for a purge, so list keys carry the catalog generation:
 * a write moves the generation on and every cached list of this data center is missed from then on. The generation
 * itself is a tiny cache entry (every isolate of the data center reads the same one); when it is evicted a new one
 * (the current time) starts, which can only cause misses, never serve an old page.
 *
 * The Cache API is per data center, so a write purges where it runs; elsewhere a copy lives until its `max-age`
 * (ANONYMOUS_MAX_AGE seconds): that is the staleness bound. Purging every data center needs the zone's purge API
 * (a zone, an API token, purge by URL or tag), which a Worker on workers.dev does not have.
 */
export const ANONYMOUS_MAX_AGE = 10;
export const ANONYMOUS_CACHE_CONTROL = `public, max-age=${ANONYMOUS_MAX_AGE}`;
export const SIGNED_IN_CACHE_CONTROL = "private, no-store";

const CACHE_HOST = "https://catalog.cache.invalid";
const GENERATION_KEY = `${CACHE_HOST}/generation`;
/** The generation outlives any list entry by far; losing it early only costs misses. */
const GENERATION_MAX_AGE = 86_400;

const cache = () => (typeof caches === "undefined" ? undefined : caches.default);

export function itemKey(sku: string): string {
  return `${CACHE_HOST}/products/${encodeURIComponent(sku)}`;
}

async function generation(): Promise<string> {
  const stored = await cache()?.match(GENERATION_KEY);
  if (stored) return stored.text();
  return bumpGeneration();
}

async function bumpGeneration(): Promise<string> {
  const next = `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`;
  await cache()?.put(
    GENERATION_KEY,
    new Response(next, { headers: { "Cache-Control": `public, max-age=${GENERATION_MAX_AGE}` } }),
  );
  return next;
}

/** The list key: the generation and the query string with its parameters sorted (same query, same key). */
export async function listKey(url: string): Promise<string> {
  const query = url.indexOf("?");
  const params = new URLSearchParams(query === -1 ? "" : url.slice(query + 1));
  params.sort();
  return `${CACHE_HOST}/products/g/${await generation()}?${params}`;
}

/** The cached 200 for this key, or undefined. */
export async function cached(key: string): Promise<Response | undefined> {
  return (await cache()?.match(key)) ?? undefined;
}

/** Stores an anonymous 200 after the response is sent (Cache-Control, ETag and type included). */
export function store(c: Context<AppEnv>, key: string, body: string, headers: Record<string, string>) {
  const cacheApi = cache();
  if (!cacheApi) return;
  const putting = cacheApi
    .put(key, new Response(body, { headers }))
    .catch((error) =>
      log("warn", "catalog cache: put failed", { request_id: c.get("requestId"), ...errorFields(error) }),
    );
  c.executionCtx.waitUntil(putting);
}

/** After an admin write: the item's copy and every list of this data center are gone before the answer is sent. */
export async function purge(sku: string): Promise<void> {
  await Promise.all([cache()?.delete(itemKey(sku)), bumpGeneration()]);
}

/** The headers a 304 keeps (RFC 9110 §15.4.5), plus whether it came from the cache. */
const RETAINED = ["cache-control", "vary", "x-cache"];
const notModified = etag({ weak: true });

/**
 * hono/etag answers 304 when If-None-Match matches (weak comparison, `*` included), hashing the body when the handler
 * set no ETag (a page), or using the handler's (an item's, which leaves out `views`). Its 304 carries only the ETag;
 * the cache headers of the 200 it replaces are put back.
 */
export const conditionalGet = createMiddleware<AppEnv>(async (c, next) => {
  let full: Headers | undefined;
  await notModified(c, async () => {
    await next();
    full = c.res.headers;
  });
  if (c.res.status !== 304 || !full) return;
  for (const name of RETAINED) {
    const value = full.get(name);
    if (value) c.res.headers.set(name, value);
  }
});
