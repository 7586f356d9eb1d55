// Every child process the harness starts is tracked here and stopped on the way out, even on error or Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { env, ROOT } from "../../scripts/lib.mjs";

const groups = new Set();
const disposers = new Set();

/** Runs a command to completion (bounded by `timeoutMs`) and returns its output; throws on failure. */
export function runQuiet(cmd, args, { timeoutMs = 120_000, extraEnv = {} } = {}) {
  const result = spawnSync(cmd, args, {
    cwd: ROOT,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.slice(-3000);
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.status ?? result.signal ?? result.error}):\n${output}`);
  }
  return result.stdout;
}

/**
 * Starts a long-running command in its own process group (so its whole tree can be stopped), capturing its output
 * line by line into `onLine`. Returns the child; `stopGroup(child)` ends it.
 */
export function startGroup(cmd, args, { extraEnv = {}, onLine = () => {} } = {}) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  groups.add(child);
  let tail = "";
  const feed = (chunk) => {
    tail += chunk;
    const lines = tail.split("\n");
    tail = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
  child.stdout.setEncoding("utf8").on("data", feed);
  child.stderr.setEncoding("utf8").on("data", feed);
  child.on("exit", () => groups.delete(child));
  return child;
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, then SIGKILL after `graceMs` if anything is left. */
export async function stopGroup(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    groups.delete(child);
    signalGroup(child, "SIGKILL"); // grandchildren may outlive their parent
    return;
  }
  signalGroup(child, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(100);
  signalGroup(child, "SIGKILL");
  groups.delete(child);
}

/** Registers an async clean-up (e.g. `mf.dispose()`); returns a function that runs and unregisters it. */
export function onCleanup(fn) {
  const once = async () => {
    if (!disposers.has(once)) return;
    disposers.delete(once);
    await fn();
  };
  disposers.add(once);
  return once;
}

/** Stops everything still running: disposers first, then process groups. Bounded in time. */
export async function cleanupAll() {
  const work = [...disposers].map((fn) => Promise.race([fn().catch(() => {}), sleep(10_000)]));
  await Promise.all(work);
  await Promise.all([...groups].map((child) => stopGroup(child, 2000)));
}

/** Last resort on a synchronous exit: SIGKILL every group still tracked. */
export function killAllSync() {
  for (const child of groups) signalGroup(child, "SIGKILL");
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes (then returns null). */
export async function pollUntil(check, { timeoutMs, intervalMs = 250 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() >= deadline) return null;
    await sleep(intervalMs);
  }
}
