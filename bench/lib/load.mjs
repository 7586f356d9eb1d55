// Load generation (autocannon, fixed connections and duration) and small measuring helpers.
import autocannon from "autocannon";

export const SETTINGS = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 8),
  warmupSeconds: 1,
};

function run(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...options, timeout: 10 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    // Bounded twice: autocannon's own duration/amount, and a hard stop in case a server hangs.
    const limitMs = ((options.duration ?? 60) + 20) * 1000;
    const timer = setTimeout(() => instance.stop(), limitMs);
    instance.on("done", () => clearTimeout(timer));
  });
}

/**
 * Fixed-concurrency load on one request shape: a short warm-up (discarded), then the measured run (`beforeRun` is
 * called between the two, e.g. to read a CPU counter over the measured run alone).
 * Returns requests/s, latency p50/p99 (ms) and every non-2xx or error, so a failing route is never reported as fast.
 */
export async function measure(
  url,
  { method = "GET", headers = {}, body, connections, duration, warmup, beforeRun } = {},
) {
  const base = {
    url,
    method,
    headers,
    body,
    connections: connections ?? SETTINGS.connections,
  };
  const warm = warmup ?? SETTINGS.warmupSeconds;
  if (warm > 0) await run({ ...base, duration: warm });
  beforeRun?.();
  const result = await run({ ...base, duration: duration ?? SETTINGS.durationSeconds });
  return summarize(result);
}

/** Exactly `amount` requests, spread over the given paths in turn (autocannon `requests` with setupRequest). */
export async function fixedAmount(baseUrl, paths, { amount, maxSeconds = 300, connections, headers = {} }) {
  let i = 0;
  const result = await run({
    url: baseUrl,
    connections: connections ?? SETTINGS.connections,
    amount,
    duration: maxSeconds,
    headers,
    requests: [
      {
        method: "GET",
        setupRequest: (request) => {
          const path = paths[i % paths.length];
          i += 1;
          return { ...request, path };
        },
      },
    ],
  });
  return summarize(result);
}

function summarize(result) {
  const seconds = result.duration || 1;
  return {
    requests: result.requests.total,
    rps: round(result.requests.total / seconds, 1),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    connections: result.connections,
    duration_s: round(seconds, 1),
  };
}

/** The middle value (the lower of the two middle ones for an even count); null for none. */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** fetch with a JSON body and a hard timeout; returns { status, body, headers }. */
export async function request(url, { method = "GET", token, json, timeoutMs = 15_000 } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export async function requireOk(url, options, expected = [200]) {
  const res = await request(url, options);
  if (!expected.includes(res.status)) {
    throw new Error(
      `${options?.method ?? "GET"} ${url} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`,
    );
  }
  return res.body;
}
