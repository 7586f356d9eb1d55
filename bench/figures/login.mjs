// Login cost: scrypt at the chosen parameters timed in Node (the same node:crypto code the Worker runs), and the
// login route's latency end to end in each harness.
import { performance } from "node:perf_hooks";
import { percentile, request, round } from "../lib/load.mjs";

const SAMPLES = 12;

export async function hashFigures() {
  const { hashPassword, verifyPassword, SCRYPT_PARAMS } = await import("../../src/auth/passwords.ts");
  const hashTimes = [];
  const verifyTimes = [];
  let stored = await hashPassword("warm-up-password"); // first call pays for lazy initialisation
  for (let i = 0; i < SAMPLES; i++) {
    let started = performance.now();
    stored = await hashPassword(`bench-password-${i}`);
    hashTimes.push(performance.now() - started);
    started = performance.now();
    const ok = await verifyPassword(`bench-password-${i}`, stored);
    verifyTimes.push(performance.now() - started);
    if (!ok) throw new Error("verifyPassword rejected the password it was just given");
  }
  const { N, r, p } = SCRYPT_PARAMS;
  return {
    params: `scrypt N=2^${Math.log2(N)} r=${r} p=${p}`,
    memory_mib: round((128 * N * r) / 1024 / 1024, 1),
    samples: SAMPLES,
    hash_p50_ms: round(percentile(hashTimes, 50), 1),
    verify_p50_ms: round(percentile(verifyTimes, 50), 1),
    verify_p99_ms: round(percentile(verifyTimes, 99), 1),
  };
}

/** Sequential logins (no concurrency: this is the time one user waits). Only failures are rate-limited. */
export async function loginRoute(rt, { email, password }) {
  const times = [];
  let token = null;
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    const res = await request(`${rt.baseUrl}/api/v1/auth/login`, { method: "POST", json: { email, password } });
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    token = res.body.access_token;
  }
  return {
    token,
    figure: {
      samples: SAMPLES,
      p50_ms: round(percentile(times, 50), 1),
      p99_ms: round(percentile(times, 99), 1),
    },
  };
}
