import type { Context } from "hono";
import { etag } from "hono/etag";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { errorFields, log } from "../../lib/log";

/**
 * Anonymous catalog reads from the Cache API (`caches.default`, this data center's cache) and their validators.
 *
 * Keys live under a host that is never fetched. An item is keyed by its sku and purged by key on every write. A list
 * has as many keys as distinct parsed queries, which cannot be listed for a purge, so list keys carry the catalog generation:
 * a write moves the generation on and every cached list of this data center is missed from then on. The generation
 * itself is a tiny cache entry (every isolate of the data center reads the same one); when it is evicted a new one
 * (the current time) starts, which can only cause misses, never serve an old page.
 *
 * The Cache API is per data center, so a write purges where it runs; elsewhere a copy lives until its `max-age`
 * (ANONYMOUS_MAX_AGE seconds, counted from the D1 read it holds): that is the staleness bound. Isolates keep a copy
 * in memory under the same bound (see remember()). Purging every data center needs the zone's purge API
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

/**
 * In front of the Cache API, a small copy in this isolate's memory: a warm read then costs no cache lookup at all.
 * An entry lives until the max-age of the answer it copies, counted from that answer's D1 read (`X-Stored-At`), so
 * no copy is ever older than the Cache API's own; a write clears this isolate's copies at once.
 */
type Entry = { body: string; headers: [string, string][]; expires: number };
const memory = new Map<string, Entry>();
const MEMORY_ENTRIES = 512;
const STORED_AT = "x-stored-at";
let generationMemo: { value: string; expires: number } | undefined;

function remember(key: string, body: string, headers: [string, string][], storedAt: number) {
  if (memory.size >= MEMORY_ENTRIES) memory.delete(memory.keys().next().value as string);
  memory.set(key, { body, headers, expires: storedAt + ANONYMOUS_MAX_AGE * 1000 });
}

function recall(key: string): Entry | undefined {
  const entry = memory.get(key);
  if (entry && entry.expires <= Date.now()) {
    memory.delete(key);
    return undefined;
  }
  return entry;
}

export function itemKey(sku: string): string {
  return `${CACHE_HOST}/products/${encodeURIComponent(sku)}`;
}

async function generation(): Promise<string> {
  const now = Date.now();
  if (generationMemo && generationMemo.expires > now) return generationMemo.value;
  const stored = await cache()?.match(GENERATION_KEY);
  if (!stored) return bumpGeneration();
  const value = await stored.text();
  // Another isolate's write is seen within max-age; lists stored before it expire within the same bound.
  generationMemo = { value, expires: now + ANONYMOUS_MAX_AGE * 1000 };
  return value;
}

async function bumpGeneration(): Promise<string> {
  const next = `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`;
  generationMemo = { value: next, expires: Date.now() + ANONYMOUS_MAX_AGE * 1000 };
  await cache()?.put(
    GENERATION_KEY,
    new Response(next, { headers: { "Cache-Control": `public, max-age=${GENERATION_MAX_AGE}` } }),
  );
  return next;
}

/** A list's parameters as parsed by the route: a value equal to its default, or undefined, is as good as absent. */
export type ListParams = Record<string, string | number | undefined>;

/**
 * The list key: the generation and the list's parameters as the route understood them, not as the client spelled
 * them. Only declared parameters are in it (the route ignores unknown ones, so `?zzz=1` is the same list and the
 * same key), each in its parsed form (`min_price=1` and `1.00` are one price), without the ones equal to their
 * default (`limit=20`, `offset=0`, the default ordering), in a fixed order. So no client can mint new keys, and force
 * D1 reads, by spelling one list differently.
 */
export async function listKey(params: ListParams, defaults: ListParams = {}): Promise<string> {
  const kept = new URLSearchParams();
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value !== undefined && value !== defaults[name]) kept.append(name, String(value));
  }
  return `${CACHE_HOST}/products/g/${await generation()}?${kept}`;
}

/** The cached 200 for this key (this isolate's copy first, then the data center's), or undefined. */
export async function cached(key: string): Promise<{ body: string; headers: [string, string][] } | undefined> {
  const entry = recall(key);
  if (entry) return entry;
  const response = await cache()?.match(key);
  if (!response) return undefined;
  const body = await response.text();
  const storedAt = Number(response.headers.get(STORED_AT)) || Date.now();
  const headers = [...response.headers].filter(([name]) => KEPT.has(name));
  remember(key, body, headers, storedAt);
  return { body, headers };
}

/** The headers of a stored answer that go back out on a hit. */
const KEPT = new Set(["content-type", "etag", "cache-control", "vary"]);

/** Stores an anonymous 200: in this isolate now, in the data center's cache after the response is sent. */
export function store(c: Context<AppEnv>, key: string, body: string, headers: Record<string, string>) {
  const storedAt = Date.now();
  remember(
    key,
    body,
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
    storedAt,
  );
  const cacheApi = cache();
  if (!cacheApi) return;
  const response = new Response(body, { headers: { ...headers, [STORED_AT]: String(storedAt) } });
  const putting = cacheApi
    .put(key, response)
    .catch((error) =>
      log("warn", "catalog cache: put failed", { request_id: c.get("requestId"), ...errorFields(error) }),
    );
  c.executionCtx.waitUntil(putting);
}

/** After an admin write: the item's copies and every list are gone, here and in this data center, before the answer. */
export async function purge(sku: string): Promise<void> {
  memory.delete(itemKey(sku));
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
